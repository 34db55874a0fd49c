"""Old import location of OAuthSSHChannel (lives in parsl-providers[ssh])."""
