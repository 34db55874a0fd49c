"""The parsl-providers distribution: installed, versioned in lockstep, its plugin found by entry point."""

from __future__ import annotations

from importlib import metadata

import parsl_providers


def test_version_matches_the_distribution_and_core():
    assert parsl_providers.__version__ == metadata.version("parsl-providers") == metadata.version("parslcore")


def test_entry_point_plugin_is_registered():
    from parsl.plugins import new_plugin_manager

    names = [name for name, _ in new_plugin_manager().pm.list_name_plugin()]
    eps = [ep for ep in metadata.entry_points(group="parsl") if ep.value == "parsl_providers.plugin"]
    assert len(eps) == 1 and eps[0].name in names
