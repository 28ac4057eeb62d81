"""The insight figures as pure functions, against values computed by hand."""

from datetime import date, datetime

import pytest

from insights import charts, figures


def test_percentile_is_nearest_rank():
    values = [7, 1, 3, 10, 2, 9, 4, 8, 6, 5]  # 1..10 shuffled
    assert figures.percentile(values, 90) == 9  # rank ceil(0.9 * 10) = 9
    assert figures.percentile(values, 50) == 5
    assert figures.percentile(values, 100) == 10
    assert figures.percentile([4, 10, 24], 90) == 24  # rank ceil(2.7) = 3
    assert figures.percentile([5], 90) == 5
    assert figures.percentile([], 90) is None


def test_median():
    assert figures.median([4, 10, 24]) == 10
    assert figures.median([4, 10]) == 7
    assert figures.median([]) is None


def test_weeks_start_on_monday_and_include_empty_ones():
    assert figures.week_of(date(2026, 11, 4)) == date(2026, 11, 2)  # a Wednesday
    assert figures.week_of(datetime(2026, 11, 8, 23, 59)) == date(2026, 11, 2)  # a Sunday
    assert figures.weeks(date(2026, 11, 4), date(2026, 11, 17)) == [
        date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]


def test_durations_by_week_with_an_empty_week():
    w1, w2, w3 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)
    rows = figures.durations_by_week([(w1, 4.0), (w1, 10.0), (w1, 24.0), (w3, 2.0)],
                                     [w1, w2, w3])
    assert rows == [
        figures.Durations(w1, 3, 10.0, 24.0),
        figures.Durations(w2, 0, None, None),
        figures.Durations(w3, 1, 2.0, 2.0),
    ]


def test_counts_by_week_has_every_week_and_kind():
    w1, w2 = date(2026, 11, 2), date(2026, 11, 9)
    rows = figures.counts_by_week([(w1, "APPROVED"), (w1, "REJECTED"), (w1, "APPROVED")],
                                  [w1, w2], ["APPROVED", "REJECTED"])
    assert rows == [(w1, {"APPROVED": 2, "REJECTED": 1}), (w2, {"APPROVED": 0, "REJECTED": 0})]


def test_revisions_per_approved_plan():
    result = figures.revisions_per_approved([1, 3, 1, 2])
    assert result.plans == 4 and result.median == 1.5 and result.mean == 1.75
    assert result.histogram == [(1, 2), (2, 1), (3, 1)]
    assert figures.revisions_per_approved([]).histogram == []


def test_reviewer_loads_busiest_first():
    rows = figures.reviewer_loads([("rob", 4.0), ("rob", 10.0), ("rob", 2.0), ("rita", 24.0)],
                                  {"rob": 1, "rita": 0, "ron": 2})
    assert rows == [
        figures.ReviewerLoad("rob", 3, 1, 4.0, 10.0),
        figures.ReviewerLoad("ron", 0, 2, None, None),
        figures.ReviewerLoad("rita", 1, 0, 24.0, 24.0),
    ]


@pytest.mark.parametrize(("value", "top"),
                         [(0, 1), (0.4, 1), (3, 5), (7, 10), (24, 25), (130, 200)])
def test_chart_axis_top_is_round(value, top):
    assert charts._nice_max(value) == top


def test_bar_chart_geometry():
    chart = charts.bar_chart(slug="x", title="T", description="D", unit=" h",
                             categories=["a", "b"], series=[("m", [10.0, None]), ("p", [5.0, 2.5])])
    assert [b.label for b in chart.bars] == ["a, m: 10 h", "a, p: 5 h", "b, p: 2.5 h"]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.y == charts.TOP and tallest.y + tallest.height == chart.baseline
    assert not chart.empty
    assert charts.bar_chart(slug="e", title="", description="", unit="", categories=["a"],
                            series=[("m", [None])]).empty
