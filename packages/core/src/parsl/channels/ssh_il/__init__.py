"""Old import location of SSHInteractiveLoginChannel (lives in parsl-providers[ssh])."""
