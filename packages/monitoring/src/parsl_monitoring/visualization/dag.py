"""The task dependency graph: a layered layout computed here and drawn as SVG (no Graphviz).

Each task goes in the layer after its deepest dependency (longest path from a root); within a
layer, tasks are ordered by the mean position of their dependencies (two barycentre sweeps),
which keeps most edges short. A layer wider than ``MAX_ROW`` tasks wraps onto several rows.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["DagNode", "layout", "render"]


@dataclass
class DagNode:
    """One task in the graph: id, app, state, dependencies, and where the layout put it."""

    task_id: int
    app: str
    state: str
    depends: Sequence[int]
    layer: int = 0
    x: float = 0.0
    y: float = 0.0


def _layers(nodes: Mapping[int, DagNode]) -> list[list[int]]:
    """Task ids grouped by layer (Kahn's algorithm; ids in a cycle, impossible in Parsl, go last)."""
    children: dict[int, list[int]] = defaultdict(list)
    missing = {tid: 0 for tid in nodes}
    for n in nodes.values():
        for d in set(n.depends):
            if d in nodes and d != n.task_id:
                children[d].append(n.task_id)
                missing[n.task_id] += 1
    ready = deque(sorted(t for t, m in missing.items() if m == 0))
    seen = 0
    while ready:
        tid = ready.popleft()
        seen += 1
        for c in children[tid]:
            nodes[c].layer = max(nodes[c].layer, nodes[tid].layer + 1)
            missing[c] -= 1
            if missing[c] == 0:
                ready.append(c)
    top = max((n.layer for n in nodes.values()), default=0)
    if seen < len(nodes):
        for tid, m in missing.items():
            if m:
                nodes[tid].layer = top + 1
    layers: dict[int, list[int]] = defaultdict(list)
    for tid in sorted(nodes):
        layers[nodes[tid].layer].append(tid)
    return [layers[i] for i in sorted(layers)]


#: tasks in one row before a layer wraps: wider graphs would need sideways scrolling
MAX_ROW = 40
#: SVG pixels between tasks in a row (DX), between layers (DY), between the wrapped rows of one
#: layer (ROW_GAP), and around the graph (MARGIN)
DX, DY, ROW_GAP, MARGIN = 28, 56, 22, 24


def layout(nodes: Mapping[int, DagNode]) -> tuple[float, float]:
    """Place every node (sets ``x``, ``y``); returns the drawing's width and height."""
    layers = _layers(nodes)
    pos: dict[int, float] = {}  # position within the layer, from 0 to 1

    def place(layer: list[int]) -> None:
        for i, tid in enumerate(layer):
            pos[tid] = (i + 0.5) / len(layer)

    def barycentre(tid: int) -> tuple[float, int]:
        n = nodes[tid]
        ps = [pos[d] for d in n.depends if d in pos and nodes[d].layer < n.layer]
        return (sum(ps) / len(ps) if ps else pos[tid], tid)

    for layer in layers:
        place(layer)
    for _ in range(2):
        for layer in layers[1:]:
            layer.sort(key=barycentre)
            place(layer)
    widest = min(MAX_ROW, max((len(layer) for layer in layers), default=1))
    width = 2 * MARGIN + widest * DX
    y = MARGIN
    for layer in layers:
        for start in range(0, len(layer), MAX_ROW):
            row = layer[start : start + MAX_ROW]
            x0 = MARGIN + (widest - len(row)) * DX / 2 + DX / 2
            for i, tid in enumerate(row):
                nodes[tid].x, nodes[tid].y = x0 + i * DX, y
            y += ROW_GAP
        y += DY - ROW_GAP
    return width, y - DY + 2 * MARGIN


def render(
    nodes: Mapping[int, DagNode], colors: Mapping[str, str], *, by: str, href: Callable[[int], str]
) -> Markup:
    """The laid-out graph as SVG: an edge per dependency, a circle per task linking to its page.

    ``by`` is "app" or "state" (which attribute picks the colour); ``href`` gives a task's URL.
    """
    width, height = layout(nodes)
    out = [
        f'<svg class="dag" data-chart="dag" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">',
        '<g class="edges" fill="none" stroke="#9aa3ad" stroke-width="1">',
    ]
    for n in nodes.values():
        for d in n.depends:
            p = nodes.get(d)
            if p is None:
                continue
            mid = (p.y + n.y) / 2
            out.append(
                f'<path class="edge" d="M{p.x:.1f},{p.y:.1f} C{p.x:.1f},{mid:.1f} '
                f'{n.x:.1f},{mid:.1f} {n.x:.1f},{n.y:.1f}"/>'
            )
    out.append('</g><g class="nodes" stroke="#333" stroke-width="0.8">')
    labels = len(nodes) <= 400
    for tid in sorted(nodes):
        n = nodes[tid]
        key = n.app if by == "app" else n.state
        tip = f"task {tid}: {n.app} ({n.state})"
        deps = ", ".join(str(d) for d in n.depends)
        if deps:
            tip += f"\ndepends on {deps}"
        out.append(
            f'<a href="{escape(href(tid))}"><circle class="node" data-task="{tid}" '
            f'cx="{n.x:.1f}" cy="{n.y:.1f}" r="9" fill="{escape(colors.get(key, "#7f7f7f"))}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        if labels:
            out.append(
                f'<text x="{n.x:.1f}" y="{n.y + 3:.1f}" font-size="{8 if tid < 1000 else 6}" '
                f'text-anchor="middle" fill="#fff" stroke="none" pointer-events="none">{tid}</text>'
            )
        out.append("</a>")
    out.append("</g></svg>")
    return Markup("".join(out))
