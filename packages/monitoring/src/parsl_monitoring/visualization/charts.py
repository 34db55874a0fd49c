"""Server-side SVG charts: stacked areas, lines, bars and a Gantt chart, with no plotting library.

Every function returns ``Markup`` holding one ``<figure>`` (an ``<svg>`` and an HTML legend), or a
short "no data" paragraph. Text from the database is escaped here; values are plain numbers.
Hover text uses SVG ``<title>`` elements, so the charts need no JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .formatting import fmt_bytes, fmt_duration, fmt_number, fmt_offset

__all__ = ["GanttRow", "Series", "bar_chart", "gantt", "line_chart", "no_data", "stacked_area"]

#: a chart's width in SVG pixels (the page scales it to fit)
WIDTH = 900
#: margins around the plot area: room for the y tick labels on the left and x ticks below
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 36


@dataclass
class Series:
    """One named series: y values (and x values for line charts) drawn in one colour."""

    label: str
    color: str
    ys: Sequence[float]
    xs: Sequence[float] = ()


@dataclass
class GanttRow:
    """One task of a Gantt chart: its label, link and (start, end, state, colour) segments."""

    label: str
    href: str
    segments: list[tuple[float, float, str, str]] = field(default_factory=list)


def no_data(message: str) -> Markup:
    """The placeholder shown instead of an empty chart."""
    return Markup('<p class="empty">%s</p>') % message


def nice_ticks(lo: float, hi: float, count: int = 5, binary: bool = False) -> list[float]:
    """About ``count`` round tick values covering [lo, hi] (round in KiB/MiB/GiB when ``binary``)."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    if binary and hi >= 1024:
        unit = 1024 ** min(int(math.log(hi, 1024)), 4)
        return [t * unit for t in nice_ticks(lo / unit, hi / unit, count)]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def time_ticks(span: float, count: int = 7) -> list[float]:
    """Tick offsets in seconds at steps people read easily (1 s, 5 min, 1 h, ...)."""
    steps = (
        0.001,
        0.002,
        0.005,
        0.01,
        0.02,
        0.05,
        0.1,
        0.2,
        0.5,
        1,
        2,
        5,
        10,
        15,
        30,
        60,
        120,
        300,
        600,
        900,
        1800,
        3600,
        7200,
        10800,
        21600,
        43200,
        86400,
        172800,
        604800,
    )
    step = next((s for s in steps if span / s <= count), steps[-1] * math.ceil(span / steps[-1] / count))
    return [i * step for i in range(int(span / step + 1e-9) + 1)]


class _Frame:
    """The plot area of one chart: scales from data to pixels and the axes' markup."""

    def __init__(
        self,
        x_max: float,
        y_max: float,
        height: int,
        y_fmt: Callable[[float], str],
        x_fmt: Callable[[float], str] = fmt_offset,
        width: int = WIDTH,
        left: int = LEFT,
    ):
        self.x_max = x_max if x_max > 0 else 1.0
        self.y_ticks = nice_ticks(0.0, y_max if y_max > 0 else 1.0, binary=y_fmt is fmt_bytes)
        self.y_max = max(self.y_ticks[-1], y_max) or 1.0
        self.height = height
        self.width = width
        self.left = left
        self.pw = width - left - RIGHT
        self.ph = height - TOP - BOTTOM
        self.y_fmt = y_fmt
        self.x_fmt = x_fmt
        self.x_ticks = time_ticks(self.x_max, count=max(3, width // 120))

    def x(self, v: float) -> float:
        return self.left + self.pw * min(max(v, 0.0), self.x_max) / self.x_max

    def y(self, v: float) -> float:
        return TOP + self.ph * (1 - min(max(v, 0.0), self.y_max) / self.y_max)

    def axes(self, x_label: str, y_label: str) -> list[str]:
        out = ['<g class="grid" stroke="#e5e5e5">']
        for t in self.y_ticks:
            y = f"{self.y(t):.1f}"
            out.append(f'<line x1="{self.left}" x2="{self.width - RIGHT}" y1="{y}" y2="{y}"/>')
        out.append('</g><g class="axis" font-size="11" fill="#444">')
        for t in self.y_ticks:
            out.append(
                f'<text x="{self.left - 6}" y="{self.y(t) + 4:.1f}" text-anchor="end">'
                f"{escape(self.y_fmt(t))}</text>"
            )
        base = TOP + self.ph
        for t in self.x_ticks:
            out.append(
                f'<line x1="{self.x(t):.1f}" x2="{self.x(t):.1f}" y1="{base}" y2="{base + 4}" '
                f'stroke="#888"/><text x="{self.x(t):.1f}" y="{base + 16}" text-anchor="middle">'
                f"{escape(self.x_fmt(t))}</text>"
            )
        out.append(
            f'<line x1="{self.left}" x2="{self.width - RIGHT}" y1="{base}" y2="{base}" stroke="#888"/>'
        )
        out.append(
            f'<text x="{self.left + self.pw / 2:.0f}" y="{self.height - 4}" text-anchor="middle">'
            f"{escape(x_label)}</text>"
        )
        out.append(
            f'<text transform="translate(12 {TOP + self.ph / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle">{escape(y_label)}</text></g>'
        )
        return out


def _figure(
    kind: str, frame: _Frame, body: list[str], legend: Sequence[tuple[str, str]], label: str
) -> Markup:
    svg = (
        f'<svg class="chart" data-chart="{escape(kind)}" viewBox="0 0 {frame.width} {frame.height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )
    items = "".join(
        f'<li><span class="swatch" style="background:{escape(c)}"></span>{escape(n)}</li>' for n, c in legend
    )
    caption = f'<figcaption><ul class="legend">{items}</ul></figcaption>' if items else ""
    return Markup(f'<figure class="plot">{svg}{caption}</figure>')


def stacked_area(
    kind: str,
    times: Sequence[float],
    series: Sequence[Series],
    *,
    y_label: str,
    x_label: str = "time since start",
    y_fmt: Callable[[float], str] = fmt_number,
    height: int = 280,
) -> Markup:
    """Series stacked on each other at the offsets ``times`` (seconds), one polygon per series."""
    series = [s for s in series if any(v > 0 for v in s.ys)]
    if not times or not series:
        return no_data("No data to plot yet.")
    totals = [sum(s.ys[i] for s in series) for i in range(len(times))]
    frame = _Frame(times[-1], max(totals), height, y_fmt)
    body = frame.axes(x_label, y_label)
    base = [0.0] * len(times)
    for s in series:
        top = [b + max(v, 0.0) for b, v in zip(base, s.ys, strict=False)]
        upper = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in zip(times, top, strict=True))
        lower = " ".join(
            f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in reversed(list(zip(times, base, strict=True)))
        )
        body.append(
            f'<polygon class="area" fill="{escape(s.color)}" fill-opacity="0.85" '
            f'points="{upper} {lower}"><title>{escape(s.label)}</title></polygon>'
        )
        base = top
    body.append(_hover_columns(frame, times, series))
    return _figure(kind, frame, body, [(s.label, s.color) for s in series], y_label)


def _hover_columns(frame: _Frame, times: Sequence[float], series: Sequence[Series]) -> str:
    """Invisible columns whose tooltips list every series' value at that time."""
    out = ['<g class="hover" fill="transparent">']
    for i, t in enumerate(times):
        x0 = frame.x(times[i - 1]) if i else frame.x(0)
        lines = [f"at {fmt_offset(t)}"] + [f"{s.label}: {frame.y_fmt(s.ys[i])}" for s in series if s.ys[i]]
        out.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{max(frame.x(t) - x0, 1):.1f}" '
            f'height="{frame.ph}"><title>{escape(chr(10).join(lines))}</title></rect>'
        )
    out.append("</g>")
    return "".join(out)


def line_chart(
    kind: str,
    series: Sequence[Series],
    *,
    y_label: str,
    x_label: str = "time since start",
    y_fmt: Callable[[float], str] = fmt_number,
    x_fmt: Callable[[float], str] = fmt_offset,
    height: int = 260,
    width: int = WIDTH,
    markers: bool | None = None,
) -> Markup:
    """One polyline per series through its (xs, ys) points."""
    series = [s for s in series if len(s.xs)]
    if not series:
        return no_data("No data to plot yet.")
    x_max = max(max(s.xs) for s in series)
    y_max = max(max(s.ys) for s in series)
    frame = _Frame(x_max, y_max, height, y_fmt, x_fmt, width=width)
    body = frame.axes(x_label, y_label)
    for s in series:
        pts = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in zip(s.xs, s.ys, strict=False))
        body.append(
            f'<polyline class="line" fill="none" stroke="{escape(s.color)}" stroke-width="2" '
            f'points="{pts}"><title>{escape(s.label)}</title></polyline>'
        )
        if markers or (markers is None and len(s.xs) <= 80):
            body.append(f'<g fill="{escape(s.color)}">')
            for x, y in zip(s.xs, s.ys, strict=False):
                tip = f"{s.label}\n{x_fmt(x)}: {y_fmt(y)}"
                body.append(
                    f'<circle class="point" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="3">'
                    f"<title>{escape(tip)}</title></circle>"
                )
            body.append("</g>")
    return _figure(kind, frame, body, [(s.label, s.color) for s in series], y_label)


def bar_chart(
    kind: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    color: str,
    y_label: str,
    x_label: str,
    y_fmt: Callable[[float], str] = fmt_number,
    height: int = 240,
    width: int = WIDTH,
    tips: Sequence[str] | None = None,
) -> Markup:
    """One bar per label (a histogram when the labels are bins); ``tips`` replace labels on hover."""
    if not labels or not any(values):
        return no_data("No data to plot yet.")
    frame = _Frame(1.0, max(values), height, y_fmt, width=width)
    frame.x_ticks = []
    body = frame.axes(x_label, y_label)
    slot = frame.pw / len(labels)
    widest = max(len(label) for label in labels) * 7 + 10
    every = max(1, math.ceil(widest / slot))
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        x = frame.left + i * slot
        tip = tips[i] if tips else label
        body.append(
            f'<rect class="bar" x="{x + slot * 0.1:.1f}" y="{frame.y(v):.1f}" '
            f'width="{slot * 0.8:.1f}" height="{frame.y(0) - frame.y(v):.1f}" fill="{escape(color)}">'
            f"<title>{escape(tip)}: {escape(y_fmt(v))}</title></rect>"
        )
        if i % every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{TOP + frame.ph + 16}" font-size="11" '
                f'fill="#444" text-anchor="middle">{escape(label)}</text>'
            )
    return _figure(kind, frame, body, [], y_label)


def gantt(kind: str, rows: Sequence[GanttRow], span: float, legend: Sequence[tuple[str, str]]) -> Markup:
    """One row per task, one coloured segment per state the task was in."""
    if not rows:
        return no_data("No tasks to show.")
    row_h = 16 if len(rows) <= 60 else 10 if len(rows) <= 150 else 5
    height = TOP + BOTTOM + row_h * len(rows)
    left = min(220, max(LEFT, 12 + 6 * max(len(r.label) for r in rows))) if row_h >= 10 else LEFT
    frame = _Frame(span, 1.0, height, fmt_number, left=left)
    frame.y_ticks = []
    body = frame.axes("time since start", "")
    for i, row in enumerate(rows):
        y = TOP + i * row_h
        body.append(f'<a href="{escape(row.href)}" class="gantt-row">')
        if row_h >= 10:
            body.append(
                f'<text x="{left - 6}" y="{y + row_h - 4}" font-size="{min(row_h - 5, 11)}" '
                f'fill="#444" '
                f'text-anchor="end">{escape(row.label)}</text>'
            )
        for start, end, state, color in row.segments:
            x0, x1 = frame.x(start), frame.x(end)
            tip = f"{row.label}: {state} for {fmt_duration(end - start)} (from {fmt_offset(start)})"
            body.append(
                f'<rect class="seg" x="{x0:.1f}" y="{y + 1}" width="{max(x1 - x0, 1.5):.1f}" '
                f'height="{row_h - 2}" fill="{escape(color)}"><title>{escape(tip)}</title></rect>'
            )
        body.append("</a>")
    return _figure(kind, frame, body, legend, "tasks over time")
