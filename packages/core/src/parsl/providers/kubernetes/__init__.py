"""Old import location of KubernetesProvider (lives in parsl-providers)."""
