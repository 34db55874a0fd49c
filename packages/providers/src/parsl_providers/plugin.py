"""Hook implementations registering this package's classes with parslcore."""
from __future__ import annotations
