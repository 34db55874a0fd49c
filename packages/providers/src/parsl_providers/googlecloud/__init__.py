"""Google Compute Engine provider (talks through ``google-api-python-client``)."""

from __future__ import annotations

from parsl_providers.googlecloud.provider import GCE_STATES, GoogleCloudProvider

__all__ = ["GCE_STATES", "GoogleCloudProvider"]
