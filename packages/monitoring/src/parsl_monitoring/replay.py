"""``parsl-monitoring-replay``: load a monitoring spill file into its database.

A workflow whose monitoring database could not be written until it ended leaves the rows in
``<run_dir>/monitoring-spill-<run_id>.pkl`` (see :mod:`parsl_monitoring.spill`). Once the
database is back::

    parsl-monitoring-replay runinfo/000/monitoring-spill-<run_id>.pkl [--url URL]

writes every row, in the order the workflow made them, into the database the workflow used
(or ``--url``), then removes the file. Replaying a file twice, or one that was partly written
before, is harmless on SQLite and PostgreSQL: rows already there are skipped, updates set the
same values again.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from parsl_monitoring.spill import SpillFileError, batch_rows, read_spill

__all__ = ["main", "replay"]

logger = logging.getLogger("parsl.monitoring.replay")


def replay(path: str, url: str | None = None) -> int:
    """Write every batch of the spill file ``path`` to ``url`` (default: the database the
    workflow used, named in the file); the number of rows written. The file is left as it is:
    the caller removes it once satisfied."""
    from parsl_monitoring.writer import DatabaseWriter

    header, batches, leftover = read_spill(path)
    if url is None:
        url = header.get("url")
        if not url or "***" in url:
            raise ValueError(
                f"{path} names its database as {url!r}, without its password: pass the full URL with --url"
            )
    writer = DatabaseWriter(url, header["run_id"])
    rows = 0
    try:
        for batch in batches:
            writer._write(batch)
            rows += batch_rows(batch)
    finally:
        writer.engine.dispose()
    if leftover[0]:
        logger.warning(
            "%s ends with %d bytes of a record cut short (the workflow stopped while writing it); "
            "the rows before it were written",
            path,
            leftover[0],
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="parsl-monitoring-replay",
        description="Write the monitoring rows a workflow left in its spill file into the database.",
    )
    parser.add_argument("spill_file", help="a monitoring-spill-<run_id>.pkl file from a run directory")
    parser.add_argument(
        "--url",
        help="SQLAlchemy URL of the database to write to (default: the one the workflow used)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the spill file after replaying it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if not os.path.isfile(args.spill_file):
        parser.error(f"no such file: {args.spill_file}")
    try:
        rows = replay(args.spill_file, args.url)
    except (SpillFileError, ValueError) as e:
        print(f"parsl-monitoring-replay: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        print(
            f"parsl-monitoring-replay: could not write to the database ({type(e).__name__}: "
            f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}); {args.spill_file} is "
            f"kept, run this again once the database can be written",
            file=sys.stderr,
        )
        return 1
    if not args.keep:
        os.unlink(args.spill_file)
    print(
        f"parsl-monitoring-replay: {rows} rows written"
        + ("" if args.keep else f"; {args.spill_file} removed")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
