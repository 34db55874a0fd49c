"""Amazon EC2 provider (needs boto3: ``pip install 'parsl-providers[aws]'``)."""

from __future__ import annotations

from parsl_providers.aws.provider import EC2_STATES, AWSProvider

__all__ = ["EC2_STATES", "AWSProvider"]
