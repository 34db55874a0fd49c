"""The monitoring rows a database outage held back: in memory up to a bound, then in a spill file.

While the database cannot be written, the writer hands every batch of rows to a :class:`Backlog`
and replays the backlog, oldest batch first, once the database answers again. A batch stays in
memory while the backlog holds fewer than ``max_rows`` rows; past that it is appended to the
spill file ``<run_dir>/monitoring-spill-<run_id>.pkl``. The backlog keeps the order of every
batch, wherever it lives, because order matters: a task's row is inserted in one batch and
updated in later ones.

The file is append-only and made of records, each a 4-byte big-endian length, a 4-byte CRC-32 of
the body and the body, a pickle. The first record is a header (what the rows belong to); every
other is one batch: a dict of table part -> list of rows, exactly as the writer built them
(timestamps as floats or datetimes, kept exact). A record cut short by a crash fails its length
or its checksum and ends the file for a reader. At shutdown :meth:`Backlog.persist` rewrites the
file so that it holds every unwritten batch in order (the ones in memory too);
``parsl-monitoring-replay`` loads such a file into a database later.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import time
import zlib
from collections import deque
from collections.abc import Iterator
from typing import Any, BinaryIO

__all__ = ["FORMAT", "Backlog", "SpillFileError", "read_spill", "spill_path"]

logger = logging.getLogger("parsl.monitoring.writer")

#: the header's ``format``: what tells a spill file from any other pickle
FORMAT = "parsl-monitoring-spill"
#: the version of the record layout described in the module docstring
VERSION = 1
_PREFIX = struct.Struct(">II")  # body length, CRC-32 of the body


class SpillFileError(Exception):
    """The file is not a monitoring spill file (or not one this version can read)."""


def spill_path(run_dir: str, run_id: str) -> str:
    """Where the run ``run_id`` spills the rows it could not write: a file in its run directory."""
    return os.path.join(run_dir, f"monitoring-spill-{run_id}.pkl")


def batch_rows(batch: dict[str, list[Any]]) -> int:
    """How many rows a batch holds (the unit of the in-memory bound)."""
    return sum(len(rows) for rows in batch.values())


def _record(obj: Any) -> bytes:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _PREFIX.pack(len(body), zlib.crc32(body)) + body


def _write_all(f: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` to the unbuffered ``f`` (a raw write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[f.write(view) or 0 :]


def _read_record(f: BinaryIO) -> bytes | None:
    """The next record's body, or None at the end of the file or at a record cut short."""
    prefix = f.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size:
        return None
    length, crc = _PREFIX.unpack(prefix)
    body = f.read(length)
    if len(body) < length or zlib.crc32(body) != crc:
        return None
    return body


def read_spill(path: str) -> tuple[dict[str, Any], Iterator[dict[str, list[Any]]], list[int]]:
    """The header of the spill file ``path``, an iterator over its batches in order, and a
    one-item list that holds, once the iterator is exhausted, the bytes left unread at the end
    (a record a crash cut short; 0 for a whole file)."""
    f = open(path, "rb")
    try:
        body = _read_record(f)
        header = pickle.loads(body) if body is not None else None
    except Exception:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        f.close()
        raise SpillFileError(f"{path} is not a monitoring spill file (written by parsl-monitoring)")
    if header.get("version") != VERSION:
        f.close()
        raise SpillFileError(
            f"{path} is a monitoring spill file of version {header.get('version')}; this "
            f"parsl-monitoring reads version {VERSION}: replay it with the version that wrote it"
        )
    leftover = [0]

    def batches() -> Iterator[dict[str, list[Any]]]:
        with f:
            size = os.fstat(f.fileno()).st_size
            while True:
                start = f.tell()
                body = _read_record(f)
                if body is None:
                    leftover[0] = size - start
                    return
                yield pickle.loads(body)

    return header, batches(), leftover


class Backlog:
    """Batches not written yet, oldest first: in memory up to ``max_rows`` rows, then in the
    spill file ``path`` (created when first needed, removed once every batch in it is written).

    Each entry is ``(batch, rows)`` for a batch in memory or ``(None, offset, length, rows)`` for
    one in the file. Only the writer thread uses a backlog.
    """

    def __init__(self, path: str, max_rows: int, header: dict[str, Any]) -> None:
        self.path = path
        self.max_rows = max_rows
        self.header = {"format": FORMAT, "version": VERSION, "created": time.time(), **header}
        self._entries: deque[tuple[Any, ...]] = deque()
        self._file: BinaryIO | None = None
        self.rows = 0  # rows held, in memory and in the file
        self.memory_rows = 0
        self.file_rows = 0
        self.spilled_batches = 0  # batches ever appended to the file (for logs and tests)
        self._file_failed = False

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    # ------------------------------------------------------------------ adding
    def add(self, batch: dict[str, list[Any]]) -> None:
        """Keep ``batch`` after every batch already held."""
        n = batch_rows(batch)
        if self.memory_rows + n > self.max_rows and self._append_to_file(batch, n):
            return
        self._entries.append((batch, n))
        self.memory_rows += n
        self.rows += n

    def _append_to_file(self, batch: dict[str, list[Any]], n: int) -> bool:
        """Append ``batch`` to the spill file; False (and the batch stays in memory) if the
        file cannot be written, so a full disk costs memory rather than rows."""
        record = _record({k: v for k, v in batch.items() if v})
        try:
            f = self._open()
            offset = f.seek(0, os.SEEK_END)
            try:
                _write_all(f, record)
            except BaseException:
                f.truncate(offset)  # no half record for the next append to follow
                raise
        except Exception as e:
            if not self._file_failed:
                self._file_failed = True
                logger.error(
                    "Monitoring cannot write its spill file %s (%s); the rows the database does not "
                    "take stay in memory beyond the bound of %d rows",
                    self.path,
                    e,
                    self.max_rows,
                )
            return False
        self._entries.append((None, offset, len(record), n))
        self.file_rows += n
        self.rows += n
        self.spilled_batches += 1
        return True

    def _open(self) -> BinaryIO:
        if self._file is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            # unbuffered: each record reaches the OS as it is appended (a killed process leaves
            # it in the file), and a failed append leaves nothing buffered to be written later
            f = open(self.path, "w+b", buffering=0)
            try:
                _write_all(f, _record(self.header))
            except BaseException:
                f.close()
                raise
            self._file = f
        return self._file

    # ---------------------------------------------------------------- replaying
    def peek(self) -> dict[str, list[Any]]:
        """The oldest batch held (read back from the file if it lives there)."""
        entry = self._entries[0]
        if entry[0] is not None:
            return entry[0]
        _, offset, length, _ = entry
        assert self._file is not None
        self._file.seek(offset)
        data = self._file.read(length)
        if len(data) != length:
            raise OSError(f"the spill file {self.path} is shorter than what was written to it")
        return pickle.loads(data[_PREFIX.size :])

    def pop(self) -> None:
        """Forget the oldest batch (it is written); the file goes once nothing in it is left."""
        entry = self._entries.popleft()
        n = entry[-1]
        self.rows -= n
        if entry[0] is not None:
            self.memory_rows -= n
        else:
            self.file_rows -= n
            if self.file_rows == 0 and not any(e[0] is None for e in self._entries):
                self._remove_file()

    def _remove_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as e:
            logger.warning("Monitoring could not remove its replayed spill file %s: %s", self.path, e)
        self._file_failed = False

    # ----------------------------------------------------------------- shutdown
    def persist(self) -> None:
        """Rewrite the spill file to hold every batch still held, in order (those in memory
        too), so nothing is lost when the process exits. Raises OSError if it cannot."""
        if not self._entries:
            return
        tmp = self.path + ".tmp"
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        entries: deque[tuple[Any, ...]] = deque()
        with open(tmp, "wb") as out:
            out.write(_record(self.header))
            for entry in self._entries:
                if entry[0] is not None:
                    record = _record({k: v for k, v in entry[0].items() if v})
                else:
                    assert self._file is not None
                    self._file.seek(entry[1])
                    record = self._file.read(entry[2])
                entries.append((None, out.tell(), len(record), entry[-1]))
                out.write(record)
            out.flush()
            os.fsync(out.fileno())
        if self._file is not None:
            self._file.close()
            self._file = None
        os.replace(tmp, self.path)
        self._file = open(self.path, "r+b", buffering=0)
        self._entries = entries
        self.file_rows = self.rows
        self.memory_rows = 0

    def close(self) -> None:
        """Close the file (left on disk if it still holds batches)."""
        if self._file is not None:
            self._file.close()
            self._file = None
