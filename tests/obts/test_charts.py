"""Report charts: the axis, the bar geometry, the top-15 cap, empty and zero reports, and
the SVG the partial draws (escaped, no inline styles)."""

import re
from datetime import date

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from pytest_django.fixtures import Settings as SettingsWrapper

from obts import charts, reports
from obts.charts import BarChart, horizontal_bar_chart, nice_axis, report_chart, vertical_bar_chart

PLOT_WIDTH = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM


def report(rows: list[list[reports.Cell]], spec: reports.ChartSpec | None = None) -> reports.Report:
    return reports.Report(
        slug="active-warrants",
        title="Active warrants",
        scope="",
        columns=["Court", "Kind", "Warrants"],
        rows=rows,
        chart=spec or reports.ChartSpec(title="Active warrants by court"),
    )


def draw(chart: BarChart) -> str:
    return render_to_string("obts/partials/bar_chart.html", {"chart": chart})


# ---------------------------------------------------------------------------------------
# The value axis


@pytest.mark.parametrize(
    ("maximum", "axis"),
    [
        (0, (3, 1)),
        (1, (3, 1)),
        (5, (5, 1)),
        (6, (6, 2)),
        (7, (8, 2)),
        (10, (10, 2)),
        (101, (150, 50)),
        (412, (500, 100)),
        (2000, (2000, 500)),
        (2001, (2500, 500)),
    ],
)
def test_axis_ends_on_a_nice_number(maximum: int, axis: tuple[int, int]) -> None:
    assert nice_axis(maximum) == axis


def test_axis_covers_the_maximum_in_three_to_five_nice_steps() -> None:
    nice_steps = {factor * 10**power for factor in (1, 2, 5) for power in range(6)}
    for maximum in range(5000):
        end, step = nice_axis(maximum)
        assert end >= maximum
        assert step in nice_steps
        assert end % step == 0
        assert 3 <= end // step <= 5


def test_horizontal_chart_draws_a_gridline_per_step_from_zero() -> None:
    chart = horizontal_bar_chart("c", "Counts", [("A", 412)])
    assert [tick.value for tick in chart.ticks] == [0, 100, 200, 300, 400, 500]
    assert chart.ticks[0].x1 == charts.LABEL_WIDTH
    assert chart.ticks[-1].x1 == charts.LABEL_WIDTH + PLOT_WIDTH


# ---------------------------------------------------------------------------------------
# Bars


def test_bar_widths_are_proportional_to_the_counts() -> None:
    chart = horizontal_bar_chart("c", "Counts", [("A", 100), ("B", 50), ("C", 25)])
    widths = {bar.label: bar.width for bar in chart.bars}
    assert chart.axis_max == 100
    assert widths == {"A": PLOT_WIDTH, "B": PLOT_WIDTH / 2, "C": PLOT_WIDTH / 4}


def test_bars_start_at_the_axis_and_do_not_overlap() -> None:
    chart = horizontal_bar_chart("c", "Counts", [("A", 3), ("B", 2), ("C", 1)])
    assert {bar.x for bar in chart.bars} == {charts.LABEL_WIDTH}
    for upper, lower in zip(chart.bars, chart.bars[1:], strict=False):
        assert upper.y + upper.height < lower.y
    assert chart.height > chart.bars[-1].y + chart.bars[-1].height


def test_bars_are_sorted_largest_first_and_ties_by_label() -> None:
    chart = horizontal_bar_chart("c", "Counts", [("B", 2), ("C", 5), ("A", 2)])
    assert [bar.label for bar in chart.bars] == ["C", "A", "B"]


def test_more_than_15_categories_keep_the_15_largest_and_add_up_the_rest_as_other() -> None:
    items = [(f"Facility {value:02d}", value) for value in range(1, 21)]
    chart = horizontal_bar_chart("c", "Custody", items, noun="facility")
    assert len(chart.bars) == 16
    assert [bar.value for bar in chart.bars[:15]] == list(range(20, 5, -1))
    other = chart.bars[-1]
    assert (other.label, other.value, other.other) == ("Other", 1 + 2 + 3 + 4 + 5, True)
    assert "15 largest of 20 categories (by facility)" in chart.description
    assert "the other 5 are added up in the bar “Other”: 15." in chart.description


def test_15_categories_have_no_other_bar() -> None:
    chart = horizontal_bar_chart("c", "Counts", [(f"C{n:02d}", n) for n in range(15)])
    assert len(chart.bars) == 15
    assert not any(bar.other for bar in chart.bars)
    assert "Other" not in chart.description


def test_zero_count_gets_a_zero_width_bar_with_its_number_beside_the_axis() -> None:
    chart = horizontal_bar_chart("c", "Counts", [("A", 4), ("B", 0)])
    zero = chart.bars[-1]
    assert zero.width == 0
    assert zero.value_x > zero.x
    assert 'width="0.0"' in draw(chart)


def test_all_zero_counts_still_draw_an_axis_and_say_so() -> None:
    chart = horizontal_bar_chart("c", "Counts", [("A", 0), ("B", 0)])
    assert chart.axis_max == 3
    assert {bar.width for bar in chart.bars} == {0}
    assert "Every count is 0." in chart.description


def test_long_labels_are_shortened_on_the_bar_and_kept_whole_in_its_title() -> None:
    label = "Hartford Correctional Center, North Block annex"
    chart = horizontal_bar_chart("c", "Custody", [(label, 3)])
    assert chart.bars[0].short_label == "Hartford Correctional Center,…"
    svg = draw(chart)
    assert f"<title>{label}: 3</title>" in svg
    assert ">Hartford Correctional Center,…</text>" in svg


# ---------------------------------------------------------------------------------------
# Over time


def test_vertical_bars_stand_on_the_axis_with_heights_proportional_to_the_counts() -> None:
    chart = vertical_bar_chart("c", "Arrests", [("2025-01", 10), ("2025-02", 5), ("2025-03", 0)])
    bottom = charts.TOP_ROOM + charts.PLOT_HEIGHT
    assert chart.axis_max == 10
    assert [bar.height for bar in chart.bars] == [charts.PLOT_HEIGHT, charts.PLOT_HEIGHT / 2, 0]
    assert {bar.y + bar.height for bar in chart.bars} == {bottom}
    assert [bar.label for bar in chart.bars] == ["2025-01", "2025-02", "2025-03"]


def test_many_months_name_only_some_and_leave_the_counts_to_the_table() -> None:
    items = [(f"{2015 + n // 12}-{n % 12 + 1:02d}", n % 7) for n in range(120)]
    chart = vertical_bar_chart("c", "Arrests", items)
    named = [bar.label for bar in chart.bars if bar.show_label]
    assert 5 < len(named) < 20
    assert named[0] == "2015-01"
    assert not any(bar.show_value for bar in chart.bars)
    assert all(bar.width > 0 for bar in chart.bars)


def test_month_chart_adds_up_agencies_and_keeps_months_without_arrests() -> None:
    spec = reports.ChartSpec(
        title="Arrests per month, all agencies",
        by=1,
        over_time=True,
        categories=("2025-01", "2025-02", "2025-03"),
    )
    rows: list[list[reports.Cell]] = [
        ["CT0006400", "2025-01", 4],
        ["CT0006400", "2025-03", 2],
        ["CT0009300", "2025-01", 1],
    ]
    chart = report_chart(report(rows, spec))
    assert chart is not None
    assert not chart.horizontal
    assert [(bar.label, bar.value) for bar in chart.bars] == [
        ("2025-01", 5),
        ("2025-02", 0),
        ("2025-03", 2),
    ]
    assert "3 bars, 2025-01 to 2025-03; 7 in all. Highest: 2025-01, 5 of 7." in chart.description


@pytest.mark.django_db
def test_arrests_report_charts_every_month_of_the_period() -> None:
    period = reports.Period(start=date(2024, 11, 15), end=date(2025, 2, 1))
    spec = reports.arrests_by_agency_by_month(period).chart
    assert spec.categories == ("2024-11", "2024-12", "2025-01", "2025-02")


# ---------------------------------------------------------------------------------------
# From a report


def test_report_without_rows_has_no_chart() -> None:
    assert report_chart(report([])) is None


def test_categorical_report_adds_up_its_count_by_the_first_column() -> None:
    chart = report_chart(
        report([["GA14", "bench", 2], ["GA14", "re-arrest", 3], ["GA15", "bench", 1]])
    )
    assert chart is not None
    assert chart.horizontal
    assert chart.ident == "chart-active-warrants"
    assert [(bar.label, bar.value) for bar in chart.bars] == [("GA14", 5), ("GA15", 1)]


def test_description_says_in_words_what_the_chart_shows() -> None:
    chart = horizontal_bar_chart(
        "c",
        "People by status",
        [("Incarcerated, sentenced", 412), ("Released", 3), ("On parole", 1585)],
    )
    assert chart.description == (
        "Horizontal bar chart of people by status: 3 bars, largest first; 2,000 in all. "
        "Largest: On parole, 1,585 of 2,000. Smallest: Released, 3. "
        "The table below gives every number."
    )


# ---------------------------------------------------------------------------------------
# The SVG


def test_svg_is_an_image_named_by_its_title_and_description() -> None:
    svg = draw(horizontal_bar_chart("chart-x", "People by status", [("Released", 3)]))
    assert '<svg class="obts-chart obts-chart--horizontal" role="img"' in svg
    assert 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">People by status</title>' in svg
    assert '<desc id="chart-x-desc">Horizontal bar chart of people by status' in svg


def test_labels_and_titles_are_escaped() -> None:
    chart = horizontal_bar_chart(
        "c", "<b>Courts</b>", [('<script>alert("x")</script>', 2), ("A & B", 1)]
    )
    svg = draw(chart)
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;: 2" in svg
    assert ">A &amp; B</text>" in svg


def test_svg_has_no_style_attribute_for_the_content_security_policy() -> None:
    vertical = vertical_bar_chart("v", "Arrests", [("2025-01", 3), ("2025-02", 0)])
    horizontal = horizontal_bar_chart("h", "Counts", [("A", 3), ("B", 0)])
    for svg in (draw(vertical), draw(horizontal)):
        assert "style=" not in svg
        assert "<script" not in svg


def test_coordinates_are_plain_short_numbers_whatever_the_locale(
    settings: SettingsWrapper,
) -> None:
    settings.USE_THOUSAND_SEPARATOR = True
    months = [(f"2025-{month:02d}", month * 37 % 101) for month in range(1, 13)]
    drawn = [
        horizontal_bar_chart("h", "Counts", [("A", 2500), ("B", 1), ("C", 777)]),
        vertical_bar_chart("v", "Arrests", months),
    ]
    with translation.override("de"):
        svg = "".join(draw(chart) for chart in drawn)
    numbers = re.findall(r' (?:x|y|x1|y1|x2|y2|width|height)="([^"]*)"', svg)
    assert len(numbers) > 50
    for number in numbers:
        assert re.fullmatch(r"\d+(\.\d{1,2})?", number), number
    assert ">2,500</text>" in svg
