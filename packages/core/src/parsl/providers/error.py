"""Old import path (Parsl before 1.0) of the provider exceptions: the module *is*
``parsl.providers.errors``, so both paths name the same classes."""

from __future__ import annotations

import sys

from parsl.providers import errors

sys.modules[__name__] = errors
