"""A watch failure drawn as a timeline: writes by resourceVersion, one lane per watcher.

A watch guarantee is about a whole sequence, so a failure's text (the history, line by
line) takes a while to read; a picture shows at once which write a watcher missed, which
event came twice or out of order. The columns are the resourceVersions of the history, in
order, so every event sits under the write that caused it; a thin line joins a watcher's
events in the order they arrived, and an event older than the one before it is reached by
a red arc back; the event where a guarantee broke is ringed in red with the guarantee's
name, and an event that never arrived is a dashed red ring where it should have been.

Inline SVG only (no scripts, nothing fetched): hovering a mark shows its ``<title>``. The
input is the plain data of ``conformance.history.to_record`` read back from
``results.json``, so it is checked here rather than trusted.
"""

from __future__ import annotations

import itertools
from html import escape
from typing import Any, Final

KIND_COLOURS: Final = {
    "ADDED": "#1a7f37",
    "create": "#1a7f37",
    "MODIFIED": "#0969da",
    "update": "#0969da",
    "DELETED": "#57606a",
    "delete": "#57606a",
    "BOOKMARK": "#bf8700",
    "ERROR": "#bc4c00",
}
BROKEN: Final = "#cf222e"
LEFT: Final = 150  # the lane labels
TOP: Final = 48  # the resourceVersion axis
LANE: Final = 40
RIGHT: Final = 16


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _rv_text(rv: float) -> str:
    if rv < 0:
        return "?"
    return str(int(rv)) if rv.is_integer() else f"{int(rv)}+"


def _mark(kind: str, x: float, y: float, title: str) -> str:
    colour = KIND_COLOURS.get(kind, "#6e7781")
    tip = f"<title>{escape(title)}</title>"
    if kind in ("ADDED", "create"):
        return (
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}">'
            f"{tip}</rect>"
        )
    if kind in ("DELETED", "delete"):
        return (
            f'<path d="M{x - 5:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 5:.1f}M{x + 5:.1f} {y - 5:.1f}'
            f'L{x - 5:.1f} {y + 5:.1f}" stroke="{colour}" stroke-width="3">{tip}</path>'
        )
    if kind == "BOOKMARK":
        return (
            f'<path d="M{x:.1f} {y - 6:.1f}L{x + 6:.1f} {y:.1f}L{x:.1f} {y + 6:.1f}'
            f'L{x - 6:.1f} {y:.1f}Z" fill="{colour}">{tip}</path>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}">{tip}</circle>'


def _flag(x: float, y: float, text: str, width: float, *, dashed: bool = False) -> str:
    """A red ring at (x, y) and the broken guarantee's name above it, kept inside
    ``width``."""
    dash = ' stroke-dasharray="3 2"' if dashed else ""
    anchor = "end" if x > width - 70 else "start" if x < LEFT + 60 else "middle"
    shift = {"end": 10, "start": -10, "middle": 0}[anchor]
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9.5" fill="none" stroke="{BROKEN}" '
        f'stroke-width="2.5"{dash}/>'
        f'<text x="{x + shift:.1f}" y="{y - 12:.1f}" text-anchor="{anchor}" font-size="11" '
        f'font-weight="700" fill="{BROKEN}">{escape(text)}</text>'
    )


def to_svg(record: dict[str, Any]) -> str:
    """The timeline of one watch failure as an inline ``<svg>`` (empty if nothing to draw)."""
    writes = [w for w in record.get("writes") or [] if isinstance(w, dict)]
    watchers = [w for w in record.get("watchers") or [] if isinstance(w, dict)]
    broken = [b for b in record.get("broken") or [] if isinstance(b, dict)]
    if not writes and not watchers:
        return ""
    events = [
        [e for e in w.get("events") or [] if isinstance(e, dict) and _num(e.get("rv")) is not None]
        for w in watchers
    ]
    values: set[float] = {rv for w in writes if (rv := _num(w.get("rv"))) is not None}
    values |= {float(e["rv"]) for lane in events for e in lane}
    values |= {rv for b in broken if (rv := _num(b.get("rv"))) is not None}
    for w in watchers:
        start = str(w.get("start") or "")
        if start.isdigit():
            values.add(float(start))
    columns = sorted(values)
    col = {rv: i for i, rv in enumerate(columns)}
    width_of = max(14.0, min(48.0, 900.0 / max(1, len(columns))))
    width = LEFT + len(columns) * width_of + RIGHT
    height = TOP + (1 + len(watchers)) * LANE + 8

    def x(rv: float) -> float:
        return LEFT + (col[rv] + 0.5) * width_of

    def y(lane: int) -> float:
        return TOP + lane * LANE + LANE / 2

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        'aria-label="watch timeline: writes and the events each watcher received" '
        'font-family="ui-monospace,monospace" font-size="10">',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#fff"/>',
    ]
    for rv in columns:  # the resourceVersion axis and a faint guide per column
        cx = x(rv)
        out.append(
            f'<line x1="{cx:.1f}" y1="{TOP - 4}" x2="{cx:.1f}" y2="{height - 6:.0f}" '
            'stroke="#eaeef2"/>'
            f'<text transform="translate({cx + 3:.1f},{TOP - 6}) rotate(-50)" '
            f'fill="#57606a">{escape(_rv_text(rv))}</text>'
        )
    for lane in range(1 + len(watchers)):
        top = TOP + lane * LANE
        out.append(
            f'<line x1="4" y1="{top + LANE:.0f}" x2="{width - 4:.0f}" y2="{top + LANE:.0f}" '
            'stroke="#d0d7de"/>'
        )
    out.append(
        f'<text x="6" y="{TOP - 30}" fill="#57606a">resourceVersion →</text>'
        f'<text x="6" y="{y(0) + 4:.1f}" font-size="12" font-weight="700">writes</text>'
    )
    for rv in record.get("lists") or []:
        if _num(rv) is not None and float(rv) in col:
            cx = x(float(rv))
            out.append(
                f'<path d="M{cx - 4:.1f} {y(0) + 14:.1f}L{cx + 4:.1f} {y(0) + 14:.1f}'
                f'L{cx:.1f} {y(0) + 8:.1f}Z" fill="#8c959f"><title>list at '
                f"{escape(_rv_text(float(rv)))}</title></path>"
            )
    for w in writes:
        rv = _num(w.get("rv"))
        if rv is None:
            continue
        op = str(w.get("op", ""))
        title = f"{op} {w.get('name', '')} @{_rv_text(rv)}"
        out.append(_mark(op, x(rv), y(0), title))
    lanes: dict[str, int] = {}
    for n, w in enumerate(watchers, start=1):
        label = str(w.get("label", f"watcher {n}"))
        lanes[label] = n
        start = str(w.get("start") or "")
        short = label.split(" (", 1)[0]
        short = short if len(short) <= 18 else short[:17] + "…"
        out.append(
            f'<text x="6" y="{y(n) - 2:.1f}" font-size="12" font-weight="700">{escape(short)}'
            f"<title>{escape(label)}</title></text>"
            f'<text x="6" y="{y(n) + 11:.1f}" fill="#57606a">from '
            f"{escape(start or 'unset')}</text>"
        )
        if start.isdigit():
            sx = x(float(start))
            out.append(
                f'<path d="M{sx:.1f} {y(n) - 13:.1f}v26" stroke="#57606a" stroke-width="1.5" '
                f'stroke-dasharray="2 2"><title>watch starts at {escape(start)}</title></path>'
            )
        # Events in arrival order; repeats of a column stack upward so none hides another.
        stacked: dict[float, int] = {}
        points: list[tuple[float, float]] = []
        marks: dict[int, tuple[float, float]] = {}
        for i, e in enumerate(w.get("events") or []):
            if not isinstance(e, dict) or _num(e.get("rv")) is None:
                continue
            rv = float(e["rv"])
            depth = stacked.get(rv, 0)
            stacked[rv] = depth + 1
            point = (x(rv), y(n) - 7 * min(depth, 2))
            points.append(point)
            marks[i] = point
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            if x2 >= x1:  # arrived in resourceVersion order: a straight grey line
                out.append(f'<path d="M{x1:.1f} {y1:.1f}L{x2:.1f} {y2:.1f}" stroke="#afb8c1"/>')
            else:  # an event older than the one before it: an arc back, in red
                out.append(
                    f'<path d="M{x1:.1f} {y1:.1f}Q{(x1 + x2) / 2:.1f} {y1 + 22:.1f} '
                    f'{x2:.1f} {y2:.1f}" fill="none" stroke="{BROKEN}" stroke-width="1.5" '
                    'stroke-dasharray="4 2"><title>arrived after a newer event</title></path>'
                )
        for i, e in enumerate(w.get("events") or []):
            if i in marks:
                kind = str(e.get("type", ""))
                title = f"event {i}: {kind} {e.get('name', '')} @{_rv_text(float(e['rv']))}"
                out.append(_mark(kind, *marks[i], title))
        for b in broken:
            if str(b.get("watcher", "")) != label:
                continue
            event, rv = b.get("event"), _num(b.get("rv"))
            name = str(b.get("guarantee", "broken"))
            if isinstance(event, int) and event in marks:
                out.append(_flag(*marks[event], f"✗ {name}", width))
            elif rv is not None and rv in col:
                out.append(_flag(x(rv), y(n), f"✗ {name} (missing)", width, dashed=True))
            else:
                out.append(
                    f'<text x="{LEFT + 4}" y="{y(n) - 8:.1f}" font-size="11" font-weight="700" '
                    f'fill="{BROKEN}">✗ {escape(name)}</text>'
                )
    for b in broken:  # guarantees not about one watcher (e.g. a list): on the writes lane
        if str(b.get("watcher", "")) in lanes:
            continue
        rv = _num(b.get("rv"))
        name = str(b.get("guarantee", "broken"))
        if rv is not None and rv in col:
            out.append(_flag(x(rv), y(0), f"✗ {name}", width, dashed=True))
    out.append("</svg>")
    return "".join(out)


def legend() -> str:
    """What the marks mean, drawn with the same shapes."""
    items = [
        ("ADDED", "ADDED / create"),
        ("MODIFIED", "MODIFIED / update"),
        ("DELETED", "DELETED / delete"),
        ("BOOKMARK", "BOOKMARK"),
    ]
    parts = []
    for kind, text in items:
        parts.append(
            '<svg xmlns="http://www.w3.org/2000/svg" width="14" height="14" viewBox="0 0 14 14">'
            f"{_mark(kind, 7, 7, text)}</svg> {escape(text)}"
        )
    parts.append(
        '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22">'
        f'<circle cx="11" cy="11" r="8.5" fill="none" stroke="{BROKEN}" stroke-width="2.5"/>'
        "</svg> where a guarantee broke (dashed: an event that never arrived)"
    )
    return '<p class="tl-legend">' + " &nbsp; ".join(parts) + "</p>"
