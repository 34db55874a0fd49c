"""Helper of ``scripts/upstream_suite.sh``: unpack Parsl's own test suite and read its results.

Subcommands (stdlib only, so any Python 3.11 runs it)::

    prepare --wheel parsl-X-py3-none-any.whl --dest DIR
        extract only ``parsl/tests/`` from the wheel into ``DIR/upstream_parsl_tests/``, rename
        the package (imports, ``importlib.import_module`` strings, paths in comments) so it
        imports whichever ``parsl`` the running interpreter has, and write ``DIR/pytest.ini`` so
        the monorepo's own pytest settings stay out of the run.
    summary XML...
        one line of counts (passed/failed/errors/skipped/xfailed/xpassed) per junit xml.
    merge --out XML PART...
        one junit xml from the per-file ones of an --isolate run.
    failed XML
        the failed and errored tests; exit status 1 when there are any.
    compare --ours XML --upstream XML
        the tests that fail, error or skip on ours and pass on upstream (and the modules that
        do not import on ours), with the first line of each failure message.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

__all__ = ["main", "outcomes", "prepare"]

PACKAGE = "upstream_parsl_tests"
_SOURCE_PREFIX = "parsl/tests/"
_DOTTED = re.compile(r"\bparsl\.tests\b")
_SLASHED = re.compile(r"\bparsl/tests\b")

# pytest 9 dropped the py.path ``path`` argument of pytest_ignore_collect, which Parsl's conftest
# still declares; the replacement keeps its logic and takes the pathlib argument instead.
_CONFTEST_FIXES = (
    ("def pytest_ignore_collect(path):", "def pytest_ignore_collect(collection_path):"),
    ("path.strpath", "str(collection_path)"),
)

_PYTEST_INI = """\
# Written by scripts/upstream_suite_prepare.py: Parsl's test suite, renamed to {package}.
# Its own rootdir, so the monorepo's pyproject.toml options do not apply to it.
[pytest]
junit_family = xunit2
"""


def _rewrite(text: str) -> str:
    """Point every reference to the ``parsl.tests`` package at the renamed package."""
    text = _DOTTED.sub(PACKAGE, text)
    return _SLASHED.sub(PACKAGE, text)


def _fix_conftest(text: str) -> str:
    """Apply the pytest-9 fixes to the suite's conftest, failing loudly when one no longer fits."""
    for old, new in _CONFTEST_FIXES:
        if old not in text:
            if new in text:
                continue
            raise SystemExit(
                f"upstream conftest.py changed: {old!r} not found; update _CONFTEST_FIXES in {__file__}"
            )
        text = text.replace(old, new)
    return text


def prepare(wheel: Path, dest: Path) -> Path:
    """Extract the suite from ``wheel`` into ``dest/upstream_parsl_tests`` and return that folder."""
    target = dest / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    count = 0
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not name.startswith(_SOURCE_PREFIX) or name.endswith("/") or "__pycache__" in name:
                continue
            out = target / name[len(_SOURCE_PREFIX) :]
            out.parent.mkdir(parents=True, exist_ok=True)
            data = zf.read(name)
            if name.endswith(".py"):
                text = _rewrite(data.decode("utf-8"))
                if name == _SOURCE_PREFIX + "conftest.py":
                    text = _fix_conftest(text)
                out.write_text(text, encoding="utf-8")
            else:
                out.write_bytes(data)
            count += 1
    if count == 0:
        raise SystemExit(f"{wheel} holds no {_SOURCE_PREFIX} files")
    (dest / "pytest.ini").write_text(_PYTEST_INI.format(package=PACKAGE), encoding="utf-8")
    print(f"prepared {count} files of Parsl's suite in {target}")
    return target


def outcomes(xml_path: Path) -> dict[str, tuple[str, str]]:
    """Map each test id in a junit xml to (outcome, first line of its message)."""
    result: dict[str, tuple[str, str]] = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        test_id = f"{classname}::{case.get('name', '')}" if classname else case.get("name", "")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is None:
                continue
            message = _headline(node)
            if tag == "skipped":
                outcome = "xfailed" if node.get("type") == "pytest.xfail" else "skipped"
            else:
                outcome = "failed" if tag == "failure" else "error"
            break
        previous = result.get(test_id)
        # a test that passed and then errored in teardown is reported twice: keep the worse
        if previous is None or _RANK[outcome] > _RANK[previous[0]]:
            result[test_id] = (outcome, message)
    return result


def _headline(node: ET.Element) -> str:
    """One line saying why a test did not pass: the message, or the error line of its traceback."""
    message = (node.get("message") or "").strip()
    if message in ("", "collection failure") or message.startswith("failed on setup"):
        errors = [line[1:].strip() for line in (node.text or "").splitlines() if line.startswith("E ")]
        if errors:
            return errors[-1]
    lines = (message or node.text or "").strip().splitlines()
    return lines[0] if lines else ""


_RANK = {"passed": 0, "xfailed": 1, "skipped": 2, "error": 3, "failed": 4}
_COLUMNS = ("passed", "failed", "error", "skipped", "xfailed")


def _summary(paths: list[Path]) -> None:
    print(f"{'results':<60} " + " ".join(f"{c:>8}" for c in _COLUMNS))
    for path in paths:
        counts = dict.fromkeys(_COLUMNS, 0)
        for outcome, _ in outcomes(path).values():
            counts[outcome] += 1
        print(f"{path!s:<60} " + " ".join(f"{counts[c]:>8}" for c in _COLUMNS))


def _compare(ours: Path, upstream: Path) -> None:
    mine, theirs = outcomes(ours), outcomes(upstream)
    for test_id in sorted(mine):
        outcome, message = mine[test_id]
        if outcome not in ("failed", "error", "skipped"):
            continue
        if theirs.get(test_id, ("",))[0] == "passed":
            print(f"{test_id}\t{outcome}\t{message[:200]}")
        elif "::" not in test_id and outcome == "error":
            # a module that did not import on ours: its tests exist only in upstream's results
            passing = [t for t, (o, _) in theirs.items() if t.startswith(test_id + "::") and o == "passed"]
            if passing:
                print(f"{test_id}\tcollection error ({len(passing)} tests pass on upstream)\t{message[:200]}")


def _merge(out: Path, parts: list[Path]) -> None:
    """Write one junit xml holding the test suites of every part (one part per test file)."""
    merged = ET.Element("testsuites")
    for part in parts:
        root = ET.parse(part).getroot()
        merged.extend(root.iter("testsuite") if root.tag == "testsuites" else [root])
    ET.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)


def _failed(xml_path: Path) -> int:
    """Print the tests that failed or errored; exit status 1 when there are any."""
    bad = [t for t, (o, _) in outcomes(xml_path).items() if o in ("failed", "error")]
    print("\n".join(bad))
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: prepare, summary, merge, failed or compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--wheel", type=Path, required=True)
    p.add_argument("--dest", type=Path, required=True)
    s = sub.add_parser("summary")
    s.add_argument("xml", type=Path, nargs="+")
    c = sub.add_parser("compare")
    c.add_argument("--ours", type=Path, required=True)
    c.add_argument("--upstream", type=Path, required=True)
    m = sub.add_parser("merge")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("xml", type=Path, nargs="+")
    f = sub.add_parser("failed")
    f.add_argument("xml", type=Path)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.wheel, args.dest)
    elif args.command == "summary":
        _summary(args.xml)
    elif args.command == "merge":
        _merge(args.out, args.xml)
    elif args.command == "failed":
        sys.exit(_failed(args.xml))
    else:
        _compare(args.ours, args.upstream)


if __name__ == "__main__":
    main(sys.argv[1:])
