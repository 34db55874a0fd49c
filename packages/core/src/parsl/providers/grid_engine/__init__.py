"""Old import location of GridEngineProvider (lives in parsl-providers)."""
