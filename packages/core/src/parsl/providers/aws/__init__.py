"""Old import location of AWSProvider (lives in parsl-providers)."""
