"""``parsl-perf --config FILE [--time SECONDS]``: no-op task throughput of a configuration.

Submits growing batches of no-op apps until one batch takes at least ``--time`` seconds,
then reports tasks per second. FILE is a Python file defining ``config``.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from typing import Any

import parsl


def _load_config(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("parsl_perf_config", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"parsl-perf: cannot load {path!r}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "config"):
        raise SystemExit(f"parsl-perf: {path!r} defines no `config` variable")
    return module.config


@parsl.python_app
def _noop(payload: Any = None) -> None:
    return None


def run(config: Any, target_time: float, resources: dict[str, Any] | None = None) -> float:
    """Return the measured tasks/s of ``config``."""
    with parsl.load(config):
        n = 10
        while True:
            start = time.perf_counter()
            kwargs = {"parsl_resource_specification": resources} if resources else {}
            futs = [_noop(**kwargs) for _ in range(n)]
            for f in futs:
                f.result()
            elapsed = time.perf_counter() - start
            rate = n / elapsed
            print(f"{n} tasks in {elapsed:.3f} s: {rate:.1f} tasks/s", flush=True)
            if elapsed >= target_time:
                return rate
            n = max(n * 2, int(rate * target_time * 1.1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parsl-perf", description=__doc__)
    parser.add_argument("--config", required=True, help="Python file defining `config`")
    parser.add_argument("--time", type=float, default=10.0, help="target seconds for the last batch")
    args = parser.parse_args(argv)
    rate = run(_load_config(args.config), args.time)
    print(f"Throughput: {rate:.1f} tasks/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
