"""Old import location of CobaltProvider (lives in parsl-providers)."""
