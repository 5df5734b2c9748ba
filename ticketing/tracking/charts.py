"""Server-rendered SVG charts of the funnel per day: no JavaScript, no dependency.

Two charts on the same days rather than one: views outnumber orders by orders of magnitude, so
orders on the views' axis would be a flat line at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .selectors import FunnelRow

WIDTH, HEIGHT = 720, 232
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 24, 28
LEGEND_Y = 6  # the legend sits above the plot, where no bar reaches


@dataclass(frozen=True)
class Series:
    field: str  # the FunnelRow attribute it plots
    color: str
    label: str


VIEWS_AND_CLICKS = (Series("views", "#417690", "Views"), Series("clicks", "#e67e22", "Clicks"))
ORDERS_AND_TICKETS = (
    Series("orders", "#2e7d32", "Orders"),
    Series("tickets", "#8e44ad", "Tickets"),
)


def daily_chart(days: list[FunnelRow], series: tuple[Series, Series]) -> SafeString:
    """Bars for the first series and a line for the second on one axis, with the day's figures
    as tooltips."""
    if not days:
        return SafeString("")
    bars, line = series
    values = [(getattr(day, bars.field), getattr(day, line.field)) for day in days]
    peak = max(max(pair) for pair in values) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / len(days)

    def y(value: int) -> str:
        return f"{TOP + plot_height * (1 - value / peak):.1f}"

    def x(position: float) -> str:
        return f"{LEFT + position * step:.1f}"

    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
        "<title>{}: {} {}, {} {}</title></rect>",
        (
            (x(i + 0.15), y(bar), f"{step * 0.7:.1f}", f"{plot_height * bar / peak:.1f}",
             bars.color, day.label, bar, bars.label.lower(), point, line.label.lower())
            for i, (day, (bar, point)) in enumerate(zip(days, values, strict=True))
        ),
    )  # fmt: skip
    points = " ".join(f"{x(i + 0.5)},{y(point)}" for i, (_, point) in enumerate(values))
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (x(i + 0.5), HEIGHT - 8, day.label[5:])  # MM-DD
            for i, day in enumerate(days)
            if i % max(1, len(days) // 8) == 0
        ),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
        '<text x="{}" y="{}">{}</text>',
        ((LEFT + n * 70, LEGEND_Y, s.color, LEFT + 14 + n * 70, LEGEND_Y + 9, s.label)
         for n, s in enumerate(series)),
    )  # fmt: skip
    return format_html(
        '<svg class="tracking-chart" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-label="{title}" font-size="11" font-family="sans-serif">'
        '<line x1="{l}" y1="{base}" x2="{r}" y2="{base}" stroke="#999"/>'
        '<text x="{lx}" y="{top_y}" text-anchor="end">{peak}</text>'
        '<text x="{lx}" y="{base}" text-anchor="end">0</text>'
        '{rects}<polyline points="{points}" fill="none" stroke="{line}" stroke-width="2"/>'
        "{ticks}{legend}</svg>",
        w=WIDTH, h=HEIGHT, l=LEFT, r=WIDTH - RIGHT, base=TOP + plot_height, lx=LEFT - 6,
        top_y=TOP + 9, peak=peak, rects=rects, points=points, line=line.color, ticks=ticks,
        legend=legend, title=f"{bars.label} and {line.label.lower()} per day",
    )  # fmt: skip
