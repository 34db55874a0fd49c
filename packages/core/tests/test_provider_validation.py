"""A provider's block numbers are checked where the provider is built, naming the fix."""

from __future__ import annotations

import pytest

from parsl.errors import ConfigurationError
from parsl.providers import LocalProvider


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"init_blocks": -2},
            "LocalProvider: init_blocks=-2 is negative; set init_blocks to 0 or a positive",
        ),
        ({"min_blocks": -1}, "LocalProvider: min_blocks=-1 is negative; set min_blocks to 0"),
        ({"nodes_per_block": 0}, "nodes_per_block=0 must be at least 1; set nodes_per_block=1"),
        (
            {"min_blocks": 3, "max_blocks": 1},
            "min_blocks=3 is greater than max_blocks=1; raise max_blocks to at least 3 or lower min_blocks",
        ),
        ({"parallelism": -1}, "parallelism=-1 is negative; use 1 to give every pending task a slot"),
    ],
)
def test_bad_block_numbers_are_refused_with_the_fix(kwargs, message):
    with pytest.raises(ConfigurationError) as info:
        LocalProvider(**kwargs)
    assert message in str(info.value)


def test_init_blocks_above_max_blocks_only_warns(caplog):
    provider = LocalProvider(init_blocks=3, max_blocks=1)
    assert provider.init_blocks == 3
    assert "init_blocks=3 is greater than max_blocks=1" in caplog.text
