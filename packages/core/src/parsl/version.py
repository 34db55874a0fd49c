"""The parslcore version (kept in lockstep with every sibling package)."""

VERSION = "2026.11.21"
