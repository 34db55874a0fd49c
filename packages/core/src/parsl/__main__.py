"""``python -m parsl``: command-line tools (``plugins`` lists installed plugins)."""
from __future__ import annotations

import argparse
import json
import sys

from parsl.version import VERSION


def _plugins(args: argparse.Namespace) -> int:
    from parsl.plugins import default_plugin_manager
    rows = default_plugin_manager().describe()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']}  ({row['distribution']})")
        for kind, names in row["provides"].items():
            if names:
                print(f"    {kind}: {', '.join(names)}")
        lifecycle = [h for h in row["hooks"]
                     if h in ("parsl_dfk_started", "parsl_task_state_changed", "parsl_dfk_stopped")]
        if lifecycle:
            print(f"    hooks: {', '.join(lifecycle)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parsl", description="Parsl command-line tools")
    parser.add_argument("--version", action="version", version=f"parslcore {VERSION}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("plugins", help="list installed plugins and what each provides")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_plugins)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
