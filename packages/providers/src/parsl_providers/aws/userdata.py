"""The cloud-init user-data script an EC2 block runs: prepare the node, run the launcher's
command within the walltime, then power off unless the provider lingers."""

from __future__ import annotations

import uuid

__all__ = ["user_data", "walltime_seconds"]

_TEMPLATE = """#!/bin/bash
# parsl-providers AWSProvider block {job_name}
cd ~
export DEBIAN_FRONTEND=noninteractive
if ! command -v python3 >/dev/null 2>&1; then
    apt-get update -y && apt-get install -y python3 python3-pip
fi
if ! python3 -c 'import parsl_executor_htex' >/dev/null 2>&1; then
    pip3 install 'parslcore[htex]' || pip3 install --break-system-packages 'parslcore[htex]'
fi
{worker_init}

cat > /tmp/parsl-block-{job_name}.sh <<'{marker}'
{command}
{marker}
{runner} bash /tmp/parsl-block-{job_name}.sh

# The block is over: stop paying for the node unless asked to keep it.
if ! {linger}; then
    halt -p || shutdown -h now
fi
"""


def walltime_seconds(walltime: str | None) -> int | None:
    """``"HH:MM:SS"`` (or ``MM:SS`` / ``SS``) in seconds; None for no limit."""
    if not walltime:
        return None
    try:
        parts = [int(p) for p in str(walltime).split(":")]
    except ValueError:
        raise ValueError(f"walltime {walltime!r} is not 'HH:MM:SS', e.g. '01:00:00'") from None
    if len(parts) > 3 or any(p < 0 for p in parts):
        raise ValueError(f"walltime {walltime!r} is not 'HH:MM:SS', e.g. '01:00:00'")
    seconds = 0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds or None


def user_data(
    command: str, job_name: str, worker_init: str = "", walltime: str | None = None, linger: bool = False
) -> str:
    """The user-data script for one block running ``command`` (already wrapped by the launcher)."""
    seconds = walltime_seconds(walltime)
    runner = f"timeout --kill-after=60 {seconds}" if seconds else ""
    marker = f"PARSL_BLOCK_{uuid.uuid4().hex}"
    return _TEMPLATE.format(
        job_name=job_name,
        worker_init=worker_init or "",
        command=command,
        marker=marker,
        runner=runner,
        linger="true" if linger else "false",
    )
