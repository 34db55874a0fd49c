"""Old import location of PBSProProvider (lives in parsl-providers)."""
