"""Old import location of SlurmProvider (lives in parsl-providers)."""
