"""Server-side SVG charts for the dashboard: no JavaScript library, no CDN."""

from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT, PADDING = 720, 180, 28
COLOURS = ("#417690", "#e0a526", "#b71c1c")


def hour_slots(now: datetime, hours: int) -> list[datetime]:
    last = now.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=offset) for offset in range(hours - 1, -1, -1)]


def hourly_lines_svg(series: dict[str, dict[datetime, int]], slots: list[datetime]) -> str:
    """A line per series over the hour slots, with a legend and the peak value on the axis."""
    peak = max([1, *(count for counts in series.values() for count in counts.values())])
    step = (WIDTH - 2 * PADDING) / max(1, len(slots) - 1)

    def point(index: int, count: int) -> str:
        x = PADDING + index * step
        y = HEIGHT - PADDING - (count / peak) * (HEIGHT - 2 * PADDING)
        return f"{x:.1f},{y:.1f}"

    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title>'
        "</polyline>",
        (
            (
                colour,
                " ".join(point(i, counts.get(slot, 0)) for i, slot in enumerate(slots)),
                name,
            )
            for (name, counts), colour in zip(series.items(), COLOURS, strict=False)
        ),
    )
    legend = format_html_join(
        "",
        '<text x="{}" y="14" fill="{}" font-size="12">■ {} ({})</text>',
        (
            (PADDING + 170 * i, colour, name, sum(counts.values()))
            for i, ((name, counts), colour) in enumerate(zip(series.items(), COLOURS, strict=False))
        ),
    )
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{p}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/>'
        '<text x="2" y="{top}" font-size="11" fill="#666">{peak}</text>'
        '<text x="{p}" y="{h}" font-size="11" fill="#666">{first}</text>'
        '<text x="{right}" y="{h}" font-size="11" fill="#666" text-anchor="end">{last}</text>'
        "{legend}{lines}</svg>",
        w=WIDTH, h=HEIGHT, p=PADDING, base=HEIGHT - PADDING, right=WIDTH - PADDING,
        top=PADDING + 4, peak=peak, first=slots[0].strftime("%d %b %H:00"),
        last=slots[-1].strftime("%d %b %H:00"), legend=legend, lines=lines,
    )  # fmt: skip
