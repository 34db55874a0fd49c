"""Old import location of TorqueProvider (lives in parsl-providers)."""
