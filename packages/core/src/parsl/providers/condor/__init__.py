"""Old import location of CondorProvider (lives in parsl-providers)."""
