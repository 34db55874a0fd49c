"""``parsl-perf``: no-op task throughput of a configuration, with Parsl's options.

``parsl-perf --config FILE [--time S] [--argsize BYTES] [--iterate estimate|exponential]
[--resources JSON]`` submits batches of no-op apps until one batch takes at least ``--time``
seconds, reporting for each batch the submission rate and the end-to-end rate. FILE is a
Python file defining ``config``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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
def _noop(payload: Any = None, parsl_resource_specification: Any = None) -> None:
    return None


def run_batch(n: int, argsize: int, resources: dict[str, Any] | None) -> tuple[float, float]:
    """Submit ``n`` no-op tasks; return (submission seconds, end-to-end seconds)."""
    payload = b"x" * argsize if argsize else None
    kwargs: dict[str, Any] = {"parsl_resource_specification": resources} if resources else {}
    start = time.perf_counter()
    futures = [_noop(payload, **kwargs) for _ in range(n)]
    submitted = time.perf_counter()
    for f in futures:
        f.result()
    return submitted - start, time.perf_counter() - start


def run(
    config: Any,
    target_time: float,
    argsize: int = 0,
    iterate: str = "estimate",
    resources: dict[str, Any] | None = None,
) -> float:
    """Return the end-to-end tasks/s of the final batch."""
    with parsl.load(config):
        n = 10
        while True:
            sub, total = run_batch(n, argsize, resources)
            print(
                f"{n} tasks: submission {sub:.3f} s = {n / sub:.1f} tasks/s, "
                f"end to end {total:.3f} s = {n / total:.1f} tasks/s (target {target_time} s)",
                flush=True,
            )
            if total >= target_time:
                return n / total
            if iterate == "exponential":
                n *= 2
            else:
                n = max(n * 2, int(n / total * target_time * 1.1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="parsl-perf", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True, help="Python file defining `config`")
    parser.add_argument("--time", type=float, default=120.0, help="target seconds for the last batch")
    parser.add_argument("--argsize", type=int, default=0, help="bytes of argument sent with each task")
    parser.add_argument(
        "--iterate",
        choices=("estimate", "exponential"),
        default="estimate",
        help="grow batches from the measured rate (estimate) or by doubling",
    )
    parser.add_argument(
        "--resources", default=None, help="JSON parsl_resource_specification passed with each task"
    )
    parser.add_argument("--version", action="version", version=f"parsl-perf (parslcore {parsl.__version__})")
    args = parser.parse_args(argv)
    resources = None
    if args.resources is not None:
        try:
            resources = json.loads(args.resources)
        except ValueError as e:
            parser.error(f"--resources must be JSON, e.g. '{{\"priority\": 1}}': {e}")
        if not isinstance(resources, dict):
            parser.error("--resources must be a JSON object")
    rate = run(_load_config(args.config), args.time, args.argsize, args.iterate, resources)
    print(f"Tasks per second: {rate:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
