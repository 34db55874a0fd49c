"""Old import location of AdHocProvider (lives in parsl-providers)."""
