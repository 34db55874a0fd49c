"""Staging for local files: nothing to move, the path is used as it is."""

from __future__ import annotations

from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.utils import RepresentationMixin

__all__ = ["NoOpFileStaging"]


class NoOpFileStaging(Staging, RepresentationMixin):
    """Handle ``file://`` and plain paths by leaving them where they are."""

    PLUGIN_NAME = "file"

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "file"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "file"
