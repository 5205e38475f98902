"""The fast date filters print what Django's ``date`` filter prints for the same formats."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from portal.templatetags.dates import ymd, ymd_hm


def render(source: str, **context: object) -> str:
    return Template("{% load dates %}" + source).render(Context(context))


@pytest.mark.parametrize("day", [date(2024, 2, 29), date(1999, 12, 31), date(2026, 1, 5)])
def test_ymd_matches_the_date_filter(day: date) -> None:
    assert render("{{ d|ymd }}", d=day) == render('{{ d|date:"Y-m-d" }}', d=day)


def test_date_times_are_shown_in_the_current_time_zone() -> None:
    # 03:30 UTC is still the evening before in New York.
    moment = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
    with timezone.override("America/New_York"):
        assert render("{{ m|ymd_hm }}", m=moment) == "2026-02-28 22:30"
        assert render("{{ m|ymd_hm }}", m=moment) == render('{{ m|date:"Y-m-d H:i" }}', m=moment)
        assert render("{{ m|ymd }}", m=moment) == "2026-02-28"


def test_missing_values_print_nothing_so_default_applies() -> None:
    assert render('{{ d|ymd|default:"—" }}', d=None) == "—"
    assert ymd("not a date") == ""
    assert ymd_hm(None) == ""
    assert ymd_hm(date(2026, 1, 2)) == "2026-01-02"
