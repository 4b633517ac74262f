"""Server-rendered SVG charts for admin pages: no JavaScript or CDN, so they render offline too."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def bar_chart(
    points: Sequence[tuple[str, float]], *, title: str, width: int = 640, bar_height: int = 22, unit: str = ""
) -> Markup:
    """Horizontal bars, one per (label, value); values are labelled so the chart reads without axes."""
    label_width = 190
    top = 28
    height = top + max(len(points), 1) * (bar_height + 6) + 8
    largest = max((value for _, value in points), default=0) or 1
    room = width - label_width - 80
    parts = [
        f'<svg class="bz-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" font-weight="bold" font-size="14">{escape(title)}</text>',
    ]
    if not points:
        parts.append(f'<text x="0" y="{top + 14}" fill="#777" font-size="12">No data yet</text>')
    for index, (label, value) in enumerate(points):
        y = top + index * (bar_height + 6)
        bar = int(room * value / largest)
        shown = f"{value:,.0f}{unit}" if float(value).is_integer() else f"{value:,.2f}{unit}"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" '
            f'font-size="12">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(bar, 1)}" height="{bar_height}" fill="#2f6fb0" rx="2"/>'
            f'<text x="{label_width + max(bar, 1) + 6}" y="{y + bar_height * 0.7:.0f}" font-size="12">{shown}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
