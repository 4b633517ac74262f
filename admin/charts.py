"""Server-rendered SVG charts for admin pages: no JavaScript or CDN, so they render offline too."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def bar_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 22,
    unit: str = "",
    label_width: int = 190,
) -> Markup:
    """Horizontal bars, one per (label, value); values are labelled so the chart reads without axes."""
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


# --- events helper: time series ---
PALETTE = ("#2f6fb0", "#e07b39", "#3a9d5d", "#b04a8f", "#8c6d31", "#5a5fc2", "#c23b3b", "#2b9aa0", "#7f7f7f")


def stacked_bar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    width: int = 900,
    height: int = 260,
    max_series: int = 8,
) -> Markup:
    """Vertical bars over time (one per label), stacked by series, with a legend of series totals.

    Series beyond ``max_series`` (the smallest) are summed into "other" so the legend stays readable.
    """
    ranked = sorted(series.items(), key=lambda kv: -sum(kv[1]))
    if len(ranked) > max_series:
        rest = ranked[max_series - 1 :]
        other = [sum(values[i] for _, values in rest) for i in range(len(labels))]
        ranked = [*ranked[: max_series - 1], ("other", other)]
    left, top, legend_width = 40, 28, 230
    plot_w, plot_h = width - left - legend_width - 10, height - top - 40
    totals = [sum(values[i] for _, values in ranked) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.8, 1)
    parts = [
        f'<svg class="bz-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" font-weight="bold" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11">{peak:,.0f}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    if not ranked or not any(totals):
        parts.append(f'<text x="{left + 8}" y="{top + plot_h / 2:.0f}" fill="#777" font-size="12">No data yet</text>')
    for index, label in enumerate(labels):
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h
        for number, (name, values) in enumerate(ranked):
            value = values[index]
            if value <= 0:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}"><title>{escape(label)} {escape(name)}: '
                f"{value:,.0f}</title></rect>"
            )
        step = max(1, len(labels) // 8)
        if index % step == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    for number, (name, values) in enumerate(ranked):
        y = top + number * 18
        parts.append(
            f'<rect x="{width - legend_width}" y="{y}" width="12" height="12" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{width - legend_width + 18}" y="{y + 10}" font-size="11">{escape(name)} '
            f"({sum(values):,.0f})</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
