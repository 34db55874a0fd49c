"""A pool on another host that runs another Python minor version, or another version of the
executor's package, than the workflow on host A: the workflow's tasks fail with VersionMismatch
naming both versions and the pool's host, within a bound, and no process is left on that host.

The pool on host B runs under its own host name (a UTS namespace), so the error can be seen to
name the host the pool is on. The other interpreter is the one (and the cached environment)
``packages/executor-htex/tests/test_python_mismatch.py`` builds; the other package version is a
copy of the package's source with another ``__version__``, first on the pool's PYTHONPATH.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from htex_hosts import assert_hosts_empty, htex_config

import parsl
from parsl import python_app
from parsl.executors.errors import BadStateException
from parsl_executor_htex import VersionMismatch, __version__
from parsl_executor_htex.executor import DEFAULT_LAUNCH_CMD

_HTEX_TESTS = str(Path(__file__).resolve().parents[2] / "packages" / "executor-htex" / "tests")
if _HTEX_TESTS not in sys.path:
    sys.path.append(_HTEX_TESTS)
# other_python: a fixture, found by pytest here through this import
from test_python_mismatch import BOUND, SRC, other_python  # noqa: E402, F401

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]

POOL_HOST = "node-b"
OURS = "{}.{}".format(*sys.version_info[:2])


@python_app
def hello():
    return "hello"


def _pool_on_b(tmp_path, topo, python: str, pythonpath: str):
    """An HTEX whose one pool runs in host B, named ``node-b``, on ``python``."""
    pool = (
        f'unshare --uts sh -c \'hostname {POOL_HOST} && exec "$0" "$@"\' '
        f"{python} -m parsl_executor_htex.process_worker_pool"
    )
    return htex_config(
        tmp_path,
        topo.hosts[0],
        topo.a.address,
        blocks=1,
        max_workers_per_node=1,
        heartbeat_threshold=5,
        launch_cmd=DEFAULT_LAUNCH_CMD.replace("process_worker_pool.py", pool, 1),
        worker_init=f"export PYTHONPATH={pythonpath}",
    )


def _mismatch(topo, config, ex) -> str:
    """Run one task; it must fail with the executor's VersionMismatch within BOUND: its text."""
    dfk = parsl.load(config)
    try:
        started = time.monotonic()
        with pytest.raises((VersionMismatch, BadStateException)) as info:
            hello().result(timeout=BOUND)
        assert time.monotonic() - started < BOUND
        mismatch = ex.executor_exception
        assert isinstance(mismatch, VersionMismatch), f"{type(info.value).__name__}: {info.value}"
        text = str(mismatch)
        assert text in str(info.value)
        with pytest.raises(VersionMismatch):  # later tasks fail at once, as clearly
            ex.submit(hello, {})
    finally:
        dfk.cleanup()
    assert_hosts_empty(topo)  # the refused pool exited
    assert f"block 0 on host {POOL_HOST}" in text, text
    return text


def test_pool_on_another_host_with_another_python(netns_hosts, tmp_path, request):
    minor, python = request.getfixturevalue("other_python")
    config, ex, _ = _pool_on_b(tmp_path, netns_hosts, str(python), str(SRC))
    text = _mismatch(netns_hosts, config, ex)
    assert f"runs Python {minor} and the workflow Python {OURS}" in text, text
    assert f"run the worker pools with Python {OURS}" in text, text


def test_pool_on_another_host_with_another_package_version(netns_hosts, tmp_path):
    other = f"{__version__}.post9"
    package = tmp_path / "pool-src" / "parsl_executor_htex"
    shutil.copytree(SRC / "parsl_executor_htex", package, ignore=shutil.ignore_patterns("__pycache__"))
    init = package / "__init__.py"
    before = init.read_text()
    init.write_text(before.replace(f'__version__ = "{__version__}"', f'__version__ = "{other}"', 1))
    assert init.read_text() != before
    config, ex, _ = _pool_on_b(tmp_path, netns_hosts, sys.executable, str(package.parent))
    text = _mismatch(netns_hosts, config, ex)
    assert f"has parsl-executor-htex {other} and the workflow {__version__}" in text, text
    assert f"install parsl-executor-htex=={__version__} where the pools run" in text, text
