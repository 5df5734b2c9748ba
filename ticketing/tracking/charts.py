"""A server-rendered SVG chart of views and clicks per day: no JavaScript, no dependency."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .selectors import Traffic

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
SERIES = (("views", "#417690", "Views"), ("clicks", "#e67e22", "Clicks"))


def daily_chart(days: list[Traffic]) -> SafeString:
    """Bars for views and a line for clicks on one axis, with the day's figures as tooltips."""
    if not days:
        return SafeString("")
    peak = max(max(day.views, day.clicks) for day in days) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / len(days)

    def y(value: int) -> str:
        return f"{TOP + plot_height * (1 - value / peak):.1f}"

    def x(position: float) -> str:
        return f"{LEFT + position * step:.1f}"

    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
        "<title>{}: {} views, {} clicks</title></rect>",
        (
            (x(i + 0.15), y(day.views), f"{step * 0.7:.1f}",
             f"{plot_height * day.views / peak:.1f}", SERIES[0][1], day.label, day.views,
             day.clicks)
            for i, day in enumerate(days)
        ),
    )  # fmt: skip
    points = " ".join(f"{x(i + 0.5)},{y(day.clicks)}" for i, day in enumerate(days))
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
        ((LEFT + 8 + n * 70, TOP, color, LEFT + 22 + n * 70, TOP + 9, label)
         for n, (_, color, label) in enumerate(SERIES)),
    )  # fmt: skip
    return format_html(
        '<svg class="tracking-chart" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-label="Views and clicks per day" font-size="11" font-family="sans-serif">'
        '<line x1="{l}" y1="{base}" x2="{r}" y2="{base}" stroke="#999"/>'
        '<text x="{lx}" y="{top_y}" text-anchor="end">{peak}</text>'
        '<text x="{lx}" y="{base}" text-anchor="end">0</text>'
        '{bars}<polyline points="{points}" fill="none" stroke="{click}" stroke-width="2"/>'
        "{ticks}{legend}</svg>",
        w=WIDTH, h=HEIGHT, l=LEFT, r=WIDTH - RIGHT, base=TOP + plot_height, lx=LEFT - 6,
        top_y=TOP + 9, peak=peak, bars=bars, points=points, click=SERIES[1][1], ticks=ticks,
        legend=legend,
    )  # fmt: skip
