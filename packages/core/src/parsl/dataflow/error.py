"""Old (0.9-era) spelling of ``parsl.dataflow.errors``, kept for existing scripts."""

from parsl.dataflow.errors import *  # noqa: F403
from parsl.dataflow.errors import __all__  # noqa: F401
