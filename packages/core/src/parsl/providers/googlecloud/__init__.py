"""Old import location of GoogleCloudProvider (lives in parsl-providers)."""
