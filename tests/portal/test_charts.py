"""The server-drawn charts: well-formed SVG, accessible names, escaped text, honest tables."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from voucher_service.portal import charts
from voucher_service.portal.charts import Series

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own output


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (230, 250), (2_600, 5_000), (10_000, 10_000)],
)
def test_axes_end_on_round_numbers(value: int, expected: int) -> None:
    assert charts.nice_ceiling(value) == expected


def test_a_line_chart_is_an_image_named_by_its_title_and_description() -> None:
    chart = charts.line_chart(
        "burn",
        "预算消耗",
        "Budget left at the end of each month",
        label_header="Month",
        labels=["2026-01", "2026-02", "2026-03"],
        series=[Series("Left", [300_00, 200_00, 50_00]), Series("Spent", [0, 100_00, 250_00])],
        area=True,
    )
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "burn-title burn-desc"
    assert root.find(f"{SVG}title").text == "预算消耗"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").get("id") == "burn-desc"  # type: ignore[union-attr]
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")  # not colour alone
    assert len(root.findall(f"{SVG}polygon")) == 1  # the area under the first line


def test_the_highest_value_reaches_the_top_of_a_round_axis() -> None:
    chart = charts.line_chart(
        "c", "t", "d", label_header="x", labels=["a", "b"], series=[Series("s", [0, 5_000])]
    )
    points = parse(chart).find(f"{SVG}polyline").get("points").split()  # type: ignore[union-attr]
    top_y = float(points[1].split(",")[1])
    assert top_y == pytest.approx(charts.TOP)
    axis = [t.text for t in parse(chart).iter(f"{SVG}text")]
    assert "5000" in axis and "0" in axis


def test_the_table_holds_every_figure_exactly() -> None:
    chart = charts.grouped_bars(
        "bars",
        "Redemptions",
        "per provider per month",
        label_header="Month",
        labels=["2026-01", "2026-02"],
        series=[Series("云A", [123_45, 0]), Series("云B", [1, 99_999_99])],
        value_format=lambda fen: f"{fen // 100}.{fen % 100:02d}",
    )
    assert chart.table.headers == ["Month", "云A", "云B"]
    assert chart.table.rows == [["2026-01", "123.45", "0.01"], ["2026-02", "0.00", "99999.99"]]
    rects = parse(chart).findall(f"{SVG}rect")
    bars = [r for r in rects if r.find(f"{SVG}title") is not None]
    assert len(bars) == 4
    assert bars[3].find(f"{SVG}title").text == "云B: 99999.99"  # type: ignore[union-attr]


def test_text_in_a_chart_is_escaped() -> None:
    chart = charts.grouped_bars(
        "x",
        "<script>alert(1)</script>",
        "a & b",
        label_header="m",
        labels=["<b>"],
        series=[Series('"quoted"', [1])],
    )
    assert "<script>" not in str(chart.svg)
    assert "&lt;script&gt;" in str(chart.svg)
    assert "&amp;" in str(chart.svg)
    parse(chart)  # still well-formed


def test_a_funnel_shows_each_stage_and_its_share_of_the_first() -> None:
    chart = charts.funnel(
        "f",
        "Approval funnel",
        "From submission to approval",
        label_header="Stage",
        value_header="Applications",
        share_header="Share",
        stages=[("Submitted", 40), ("Reviewed", 30), ("Approved", 13)],
    )
    assert chart.table.rows == [
        ["Submitted", "40", "100%"],
        ["Reviewed", "30", "75%"],
        ["Approved", "13", "32%"],  # rounded down: never more than it is
    ]
    widths = [float(r.get("width") or 0) for r in parse(chart).findall(f"{SVG}rect")]
    assert widths[0] > widths[1] > widths[2]


def test_an_empty_chart_says_so_and_still_draws() -> None:
    chart = charts.funnel(
        "f", "t", "d", label_header="s", value_header="n", share_header="%", stages=[]
    )
    assert chart.empty
    bars = charts.grouped_bars("g", "t", "d", label_header="m", labels=[], series=[])
    assert bars.empty
    parse(bars)


def test_series_must_match_the_labels() -> None:
    with pytest.raises(ValueError, match="has 1 values for 2"):
        charts.line_chart(
            "c", "t", "d", label_header="x", labels=["a", "b"], series=[Series("s", [1])]
        )


def test_many_labels_are_thinned_so_they_never_overlap() -> None:
    labels = [f"d{n}" for n in range(60)]
    chart = charts.line_chart(
        "c", "t", "d", label_header="x", labels=labels, series=[Series("s", list(range(60)))]
    )
    shown = [t.text for t in parse(chart).iter(f"{SVG}text") if (t.text or "").startswith("d")]
    assert len(shown) <= 13
    assert shown[0] == "d0" and shown[-1] == "d59"


def test_compact_amounts_on_axes() -> None:
    zh, en = charts.compact_yuan("zh"), charts.compact_yuan("en")
    assert zh(600_000_000_00) == "6亿"
    assert zh(2_500_000_00) == "250万"
    assert zh(1_234_00) == "1,234"
    assert en(2_500_000_00) == "2.5M"
    assert en(12_000_00) == "12k"
