"""Kubernetes provider (needs the kubernetes client: ``pip install 'parsl-providers[kubernetes]'``)."""

from __future__ import annotations

from parsl_providers.kubernetes.provider import POD_PHASES, STUCK_REASONS, KubernetesProvider

__all__ = ["POD_PHASES", "STUCK_REASONS", "KubernetesProvider"]
