"""Charts drawn on the server as SVG: no JavaScript, no CDN, nothing to download.

Each chart is a :class:`Chart`: the SVG (``role="img"`` with a ``<title>`` and ``<desc>`` that
screen readers announce) and the same figures as a table, which the page shows beside it (see
the ``chart`` macro in ``macros.html``). Colours are never the only difference between series:
lines also differ in dash pattern and markers, and every figure is in the table.

Values are integers (fen, counts); positions are floats, because drawing is not accounting.
Texts arrive translated: this module knows no language.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 20, 64
#: Colours with at least 3:1 contrast on white (graphical objects, WCAG 1.4.11).
PALETTE = ("#0a3d8f", "#c2410c", "#17683a", "#6b3fa0", "#a3161b", "#00677f")
DASHES = ("", "6 4", "2 3", "10 3 2 3", "1 4", "8 6")
Formatter = Callable[[int], str]


@dataclass(frozen=True)
class Series:
    """One named line or set of bars: a value per label of the chart."""

    name: str
    values: Sequence[int]


@dataclass(frozen=True)
class Table:
    """The chart's figures as a table: what the page shows for those who cannot see the SVG."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Chart:
    key: str  # a prefix for the SVG's ids, unique on its page
    title: str
    description: str
    svg: Markup
    table: Table

    @property
    def empty(self) -> bool:
        return not self.table.rows


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (an axis' round top)."""
    if value <= 0:
        return 1
    power = 10 ** max(0, int(math.log10(value)))
    for step in (1, 2, 2.5, 5, 10):
        candidate = int(step * power)
        if candidate >= value:
            return candidate
    return int(10 * power)  # pragma: no cover - the loop always finds one


def ticks(top: int, count: int = 4) -> list[int]:
    """``count`` + 1 evenly spaced values from 0 to ``top``."""
    return [top * i // count for i in range(count + 1)]


def _open(chart_key: str, title: str, description: str) -> list[str]:
    ids = f"{chart_key}-title {chart_key}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ids}" class="chart-svg" focusable="false">',
        f'<title id="{chart_key}-title">{escape(title)}</title>',
        f'<desc id="{chart_key}-desc">{escape(description)}</desc>',
    ]


def _y(value: int, top: int) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return HEIGHT - BOTTOM - plot * value / top


def _axes(top: int, axis_format: Formatter) -> list[str]:
    parts = ['<g class="axis" font-size="12" fill="#3f4a5a">']
    for tick in ticks(top):
        y = _y(tick, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#8692a3" if tick == 0 else "#e6eaf0"}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(axis_format(tick))}</text>"
        )
    parts.append("</g>")
    return parts


def _x_labels(labels: Sequence[str], centres: Sequence[float]) -> list[str]:
    """Labels under the x axis; with many, only every n-th, so they never overlap."""
    every = max(1, math.ceil(len(labels) / 12))
    parts = ['<g class="x-labels" font-size="12" fill="#3f4a5a" text-anchor="middle">']
    for index, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if index % every == 0 or index == len(labels) - 1:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}">{escape(label)}</text>')
    parts.append("</g>")
    return parts


def _legend(series: Sequence[Series], *, lines: bool) -> list[str]:
    parts = ['<g class="legend" font-size="12" fill="#1b2330">']
    x, y = LEFT, HEIGHT - 18
    for index, one in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        if lines:
            parts.append(
                f'<line x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="3" stroke-dasharray="{dash}"/>'
            )
        else:
            parts.append(f'<rect x="{x + 6}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 28}" y="{y}">{escape(one.name)}</text>')
        x += 40 + 13 * len(one.name)
    parts.append("</g>")
    return parts


def _table(
    label_header: str, labels: Sequence[str], series: Sequence[Series], value_format: Formatter
) -> Table:
    rows = [
        [label, *(value_format(one.values[index]) for one in series)]
        for index, label in enumerate(labels)
    ]
    return Table([label_header, *(one.name for one in series)], rows)


def _check(labels: Sequence[str], series: Sequence[Series]) -> None:
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(labels)}")


def line_chart(
    key: str,
    title: str,
    description: str,
    *,
    label_header: str,
    labels: Sequence[str],
    series: Sequence[Series],
    area: bool = False,
    value_format: Formatter = str,
    axis_format: Formatter = str,
) -> Chart:
    """Lines over time (budget left, spending to date); ``area`` fills under the first line."""
    _check(labels, series)
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    span = WIDTH - LEFT - RIGHT
    step = span / max(1, len(labels) - 1)
    xs = [LEFT + step * i if len(labels) > 1 else LEFT + span / 2 for i in range(len(labels))]
    parts = [*_open(key, title, description), *_axes(top, axis_format)]
    for index, one in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        points = " ".join(f"{x:.1f},{_y(v, top):.1f}" for x, v in zip(xs, one.values, strict=True))
        if area and index == 0 and xs:
            base = _y(0, top)
            parts.append(
                f'<polygon points="{xs[0]:.1f},{base:.1f} {points} {xs[-1]:.1f},{base:.1f}" '
                f'fill="{colour}" fill-opacity="0.12"/>'
            )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}" stroke-linejoin="round"/>'
        )
        if len(xs) <= 40:
            parts.extend(
                f'<circle cx="{x:.1f}" cy="{_y(v, top):.1f}" r="3" fill="{colour}"/>'
                for x, v in zip(xs, one.values, strict=True)
            )
    parts += [*_x_labels(labels, xs), *_legend(series, lines=True), "</svg>"]
    table = _table(label_header, labels, series, value_format)
    return Chart(key, title, description, Markup("".join(parts)), table)  # noqa: S704 - escaped


def grouped_bars(
    key: str,
    title: str,
    description: str,
    *,
    label_header: str,
    labels: Sequence[str],
    series: Sequence[Series],
    value_format: Formatter = str,
    axis_format: Formatter = str,
) -> Chart:
    """Bars per label, one per series side by side (redemptions per provider per month)."""
    _check(labels, series)
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    group = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    bar = group * 0.8 / max(1, len(series))
    centres = [LEFT + group * (i + 0.5) for i in range(len(labels))]
    parts = [*_open(key, title, description), *_axes(top, axis_format)]
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        for centre, value in zip(centres, one.values, strict=True):
            x = centre - group * 0.4 + bar * index
            y = _y(value, top)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{_y(0, top) - y:.1f}" fill="{colour}">'
                f"<title>{escape(one.name)}: {escape(value_format(value))}</title></rect>"
            )
    parts += [*_x_labels(labels, centres), *_legend(series, lines=False), "</svg>"]
    table = _table(label_header, labels, series, value_format)
    return Chart(key, title, description, Markup("".join(parts)), table)  # noqa: S704 - escaped


def funnel(
    key: str,
    title: str,
    description: str,
    *,
    label_header: str,
    value_header: str,
    share_header: str,
    stages: Sequence[tuple[str, int]],
) -> Chart:
    """Stages narrowing down (submitted → reviewed → approved), each with its share of the first."""
    first = stages[0][1] if stages else 0
    row_height = (HEIGHT - TOP - 16) / max(1, len(stages))
    centre, widest = WIDTH / 2, WIDTH - 2 * 150
    parts = _open(key, title, description)
    rows: list[list[str]] = []
    for index, (label, count) in enumerate(stages):
        share = _share(count, first)
        width = max(widest * count / first if first else 0, 2)
        y = TOP + row_height * index
        colour = PALETTE[0] if index < len(stages) - 1 else PALETTE[2]
        parts.append(
            f'<rect x="{centre - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{row_height - 6:.1f}" rx="3" fill="{colour}" '
            f'fill-opacity="{1 - 0.12 * index:.2f}"/>'
        )
        mid = y + (row_height - 6) / 2 + 5
        parts.append(
            f'<text x="{centre - widest / 2 - 12}" y="{mid:.1f}" text-anchor="end" '
            f'font-size="13" fill="#1b2330">{escape(label)}</text>'
        )
        parts.append(
            f'<text x="{centre + widest / 2 + 12}" y="{mid:.1f}" font-size="13" '
            f'fill="#1b2330" font-weight="600">{count} · {escape(share)}</text>'
        )
        rows.append([label, str(count), share])
    parts.append("</svg>")
    table = Table([label_header, value_header, share_header], rows)
    return Chart(key, title, description, Markup("".join(parts)), table)  # noqa: S704 - escaped


def _share(count: int, first: int) -> str:
    """``count`` as a whole percentage of ``first`` (rounded down, like everything here)."""
    return f"{count * 100 // first}%" if first else "—"


def compact_yuan(language: str) -> Formatter:
    """An axis label for an amount in fen: 万/亿 yuan in Chinese, k/M in English."""

    def chinese(amount: int) -> str:
        yuan = amount // 100
        if yuan >= 100_000_000:
            return f"{yuan / 100_000_000:g}亿"
        if yuan >= 10_000:
            return f"{yuan / 10_000:g}万"
        return f"{yuan:,}"

    def english(amount: int) -> str:
        yuan = amount // 100
        if yuan >= 1_000_000:
            return f"{yuan / 1_000_000:g}M"
        if yuan >= 1_000:
            return f"{yuan / 1_000:g}k"
        return f"{yuan:,}"

    return chinese if language == "zh" else english
