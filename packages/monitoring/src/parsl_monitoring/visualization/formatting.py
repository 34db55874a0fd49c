"""Formatting durations, offsets, byte counts and times for pages and chart axes."""

from __future__ import annotations

import datetime as dt

__all__ = ["NO_VALUE", "RANGE_DASH", "fmt_bytes", "fmt_duration", "fmt_number", "fmt_offset", "fmt_time"]

#: what a cell shows for a missing value: an en dash, as the templates do
NO_VALUE = "\u2013"
#: between the two ends of a range ("1 s \u2013 2 s"), also an en dash
RANGE_DASH = f" {NO_VALUE} "


def fmt_duration(seconds: float | dt.timedelta | None) -> str:
    """A duration for people: ``850 ms``, ``12.5 s``, ``3 min 4 s``, ``2 h 05 min``."""
    if seconds is None:
        return NO_VALUE
    if isinstance(seconds, dt.timedelta):
        seconds = seconds.total_seconds()
    if seconds < 0:
        return "-" + fmt_duration(-seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        m, s = divmod(round(seconds), 60)
        return f"{m} min {s} s"
    h, rest = divmod(round(seconds), 3600)
    if h < 48:
        return f"{h} h {rest // 60:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


def fmt_offset(seconds: float) -> str:
    """A compact offset for axis ticks: ``0``, ``250ms``, ``45s``, ``1m30s``, ``2h``."""
    if seconds == 0:
        return "0"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m" if m else f"{h}h"
    return f"{m}m{s:02d}s" if s else f"{m}m"


def fmt_number(v: float) -> str:
    """A count or measurement with at most three significant digits beyond the integer part."""
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def fmt_bytes(n: float | None) -> str:
    """Bytes in binary units: ``512 B``, ``12.3 MiB``."""
    if n is None:
        return NO_VALUE
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover


def fmt_time(t: dt.datetime | None) -> str:
    """A timestamp to the second, or a dash."""
    return NO_VALUE if t is None else t.strftime("%Y-%m-%d %H:%M:%S")
