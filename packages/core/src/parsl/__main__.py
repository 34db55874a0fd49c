"""``python -m parsl``: command-line tools (``plugins`` lists installed plugins, ``doctor``
checks the installation)."""

from __future__ import annotations

import argparse
import json
import sys

from parsl.version import VERSION


def _refuse_if_mixed() -> bool:
    """Print the report and return True when upstream parsl and parslcore are both installed.

    When upstream Parsl was installed over parslcore, ``import parsl`` runs upstream's
    ``__init__`` and only leftovers such as this file are parslcore's: say so before using them.
    """
    from parsl._coexist import find_conflict

    conflict = find_conflict()
    if conflict:
        print(f"error: {conflict}", file=sys.stderr)
    return conflict is not None


def _doctor(args: argparse.Namespace) -> int:
    import os

    import parsl
    from parsl._coexist import diagnose, find_conflict

    problems = diagnose()
    print(
        f"parsl {getattr(parsl, '__version__', '?')} imported from {os.path.dirname(parsl.__file__ or '?')}"
    )
    if find_conflict() is None:  # parsl.plugins is parslcore's; with upstream mixed in it may be a leftover
        from importlib.metadata import entry_points

        from parsl.plugins import default_plugin_manager, entry_point_plugins

        loaded = {name for name, _dist, _plugin in entry_point_plugins()}
        for ep in entry_points(group="parsl"):
            if ep.name not in loaded:
                problems.append(
                    f"the plugin entry point {ep.name} = {ep.value} does not load "
                    f"(run `python -m parsl plugins` with logging, or reinstall its package)"
                )
        names = ", ".join(row["name"] for row in default_plugin_manager().describe())
        print(f"plugins: {names}")
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return 1
    print("no problems found")
    return 0


def _plugins(args: argparse.Namespace) -> int:
    if _refuse_if_mixed():
        return 1
    from parsl.plugins import LIFECYCLE_HOOKS, default_plugin_manager

    rows = default_plugin_manager().describe()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']}  ({row['distribution']})")
        for kind, names in row["provides"].items():
            if names:
                print(f"    {kind}: {', '.join(names)}")
        lifecycle = [h for h in row["hooks"] if h in LIFECYCLE_HOOKS]
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
    d = sub.add_parser(
        "doctor",
        help="check the installation: upstream parsl mixed in, sibling versions, plugins that do not load",
    )
    d.set_defaults(func=_doctor)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
