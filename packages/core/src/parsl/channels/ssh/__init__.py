"""Old import location of SSHChannel (lives in parsl-providers[ssh])."""
