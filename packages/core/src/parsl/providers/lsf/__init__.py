"""Old import location of LSFProvider (lives in parsl-providers)."""
