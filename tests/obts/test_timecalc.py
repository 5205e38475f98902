"""Sentence time calculation: start, maximum release and supervision end, and the steps
that explain them."""

from datetime import date
from itertools import count
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from obts.models import Sentence, SentenceRelation
from obts.timecalc import Calculation, calculate, describe_term, person_sentences_recalculate
from tests.obts.factories_records import CaseFactory, PersonFactory, SentenceFactory

_pks = count(1)


def sentence(
    imposed_on: date, *, person_id: int = 1, follows: Sentence | None = None, **terms: Any
) -> Sentence:
    """An unsaved sentence with a primary key (the calculation runs no query)."""
    return Sentence(
        pk=next(_pks),
        person_id=person_id,
        imposed_on=imposed_on,
        relation=SentenceRelation.CONSECUTIVE if follows else SentenceRelation.CONCURRENT,
        consecutive_to_id=follows.pk if follows else None,
        **terms,
    )


def calc(item: Sentence, *others: Sentence) -> Calculation:
    return calculate([item, *others])[item.pk]


# ---------------------------------------------------------------------------------------
# One sentence


def test_one_day_sentence_releases_the_day_it_starts() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=1))
    assert result.starts_on == date(2025, 3, 1)
    assert result.max_release_on == date(2025, 3, 1)


def test_concurrent_sentence_starts_on_imposition_and_counts_the_start_day() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=365))
    assert result.starts_on == date(2025, 3, 1)
    assert result.max_release_on == date(2026, 2, 28)


def test_partly_suspended_sentence_serves_the_unsuspended_part() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=1096, suspended_days=365))
    assert result.days_to_serve == 731
    assert result.max_release_on == date(2027, 3, 1)


def test_partly_suspended_sentence_explains_the_subtraction_in_years_and_days() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=1096, suspended_days=365))
    assert result.steps[0] == (
        "Imposed 2025-03-01: 3 years (1,096 days) incarceration, 1 year (365 days) "
        "suspended → 731 days to serve"
    )
    assert "Maximum release date 2027-03-01" in result.steps


def test_jail_credit_reduces_the_days_to_serve() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=100, jail_credit_days=45))
    assert result.days_to_serve == 55
    assert result.max_release_on == date(2025, 4, 24)
    assert "Jail credit 45 days → 55 days" in result.steps


def test_jail_credit_larger_than_the_term_leaves_nothing_to_serve() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=30, jail_credit_days=90))
    assert result.days_to_serve == 0
    assert result.max_release_on is None
    assert result.starts_on == date(2025, 3, 1)


def test_jail_credit_larger_than_the_term_says_the_credit_covers_it() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=30, jail_credit_days=90))
    assert "Jail credit 90 days covers the 30 days to serve → 0 days" in result.steps
    assert "Nothing to serve → no maximum release date" in result.steps


def test_jail_credit_larger_than_the_term_starts_probation_on_imposition() -> None:
    result = calc(
        sentence(date(2025, 3, 1), incarceration_days=30, jail_credit_days=90, probation_days=10)
    )
    assert result.supervision_ends_on == date(2025, 3, 10)


def test_fully_suspended_sentence_with_probation_supervises_from_imposition() -> None:
    result = calc(
        sentence(date(2025, 3, 1), incarceration_days=730, suspended_days=730, probation_days=1096)
    )
    assert result.max_release_on is None
    assert result.supervision_ends_on == date(2028, 2, 29)


def test_fully_suspended_sentence_explains_it() -> None:
    result = calc(
        sentence(date(2025, 3, 1), incarceration_days=730, suspended_days=730, probation_days=365)
    )
    assert result.steps[0] == (
        "Imposed 2025-03-01: 2 years (730 days) incarceration, all suspended → 0 days to serve"
    )
    assert result.steps[-1] == (
        "Probation of 1 year (365 days) starts with the sentence, 2025-03-01, as nothing is to "
        "be served → supervision ends 2026-02-28"
    )


def test_probation_follows_release() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=10, probation_days=730))
    assert result.max_release_on == date(2025, 3, 10)
    assert result.supervision_ends_on == date(2027, 3, 10)
    assert result.steps[-1] == (
        "Probation of 2 years (730 days) follows release (from 2025-03-11) → "
        "supervision ends 2027-03-10"
    )


def test_conditional_discharge_without_incarceration_runs_from_imposition() -> None:
    result = calc(sentence(date(2025, 3, 1), conditional_discharge_days=365))
    assert result.starts_on == date(2025, 3, 1)
    assert result.max_release_on is None
    assert result.supervision_ends_on == date(2026, 2, 28)
    assert result.steps[0] == "Imposed 2025-03-01: no incarceration → 0 days to serve"


def test_conditional_discharge_follows_release() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=30, conditional_discharge_days=60))
    assert result.max_release_on == date(2025, 3, 30)
    assert result.supervision_ends_on == date(2025, 5, 29)


def test_probation_and_conditional_discharge_run_together() -> None:
    result = calc(sentence(date(2025, 3, 1), probation_days=30, conditional_discharge_days=365))
    assert result.supervision_ends_on == date(2026, 2, 28)
    assert result.steps[-1] == "Both run together → supervision ends 2026-02-28"


def test_fine_is_noted_without_changing_dates() -> None:
    result = calc(sentence(date(2025, 3, 1), incarceration_days=1, fine_amount=500))
    assert result.max_release_on == date(2025, 3, 1)
    assert "Fine $500.00 (does not change the dates)" in result.steps


# ---------------------------------------------------------------------------------------
# Leap years


def test_term_across_29_february_2028_counts_that_day() -> None:
    result = calc(sentence(date(2028, 2, 1), incarceration_days=60))
    assert result.max_release_on == date(2028, 3, 31)


def test_sentence_imposed_on_29_february_releases_a_year_of_days_later() -> None:
    result = calc(sentence(date(2028, 2, 29), incarceration_days=365))
    assert result.max_release_on == date(2029, 2, 27)
    assert result.steps[0].startswith("Imposed 2028-02-29: 1 year (365 days) incarceration")


def test_one_year_from_1_march_2027_is_366_days_because_of_29_february() -> None:
    assert describe_term(366, date(2027, 3, 1)) == "1 year (366 days)"
    assert describe_term(365, date(2027, 3, 1)) == "365 days"


def test_term_that_is_not_whole_years_or_months_is_given_in_days() -> None:
    assert describe_term(45, date(2025, 3, 1)) == "45 days"
    assert describe_term(31, date(2025, 3, 1)) == "1 month (31 days)"


# ---------------------------------------------------------------------------------------
# Several sentences


def test_concurrent_sentences_each_run_from_their_own_imposition() -> None:
    first = sentence(date(2025, 3, 1), incarceration_days=100)
    second = sentence(date(2025, 4, 1), incarceration_days=10)
    results = calculate([first, second])
    assert results[first.pk].max_release_on == date(2025, 6, 8)
    assert results[second.pk].starts_on == date(2025, 4, 1)
    assert results[second.pk].max_release_on == date(2025, 4, 10)


def test_chain_of_three_consecutive_sentences_starts_each_the_day_after_the_last() -> None:
    first = sentence(date(2025, 3, 1), incarceration_days=10)
    second = sentence(date(2025, 3, 1), incarceration_days=20, follows=first)
    third = sentence(date(2025, 3, 1), incarceration_days=30, follows=second)
    results = calculate([third, second, first])
    assert results[first.pk].max_release_on == date(2025, 3, 10)
    assert (results[second.pk].starts_on, results[second.pk].max_release_on) == (
        date(2025, 3, 11),
        date(2025, 3, 30),
    )
    assert (results[third.pk].starts_on, results[third.pk].max_release_on) == (
        date(2025, 3, 31),
        date(2025, 4, 29),
    )


def test_consecutive_sentence_names_the_sentence_it_follows() -> None:
    first = sentence(date(2024, 6, 10), incarceration_days=579)
    second = sentence(
        date(2025, 3, 1),
        follows=first,
        incarceration_days=1096,
        suspended_days=365,
        jail_credit_days=45,
        probation_days=731,
    )
    assert calc(second, first).steps == [
        "Imposed 2025-03-01: 3 years (1,096 days) incarceration, 1 year (365 days) suspended "
        "→ 731 days to serve",
        "Jail credit 45 days → 686 days",
        "Consecutive to sentence of 2024-06-10, which ends 2026-01-09 → starts 2026-01-10",
        "Maximum release date 2027-11-26",
        "Probation of 2 years (731 days) follows release (from 2027-11-27) → supervision ends "
        "2029-11-26",
    ]


def test_consecutive_sentence_never_starts_before_its_imposition() -> None:
    first = sentence(date(2020, 1, 1), incarceration_days=10)
    second = sentence(date(2025, 3, 1), incarceration_days=10, follows=first)
    assert calc(second, first).starts_on == date(2025, 3, 1)


def test_consecutive_to_a_sentence_with_nothing_to_serve_starts_on_imposition() -> None:
    first = sentence(date(2025, 3, 1), incarceration_days=10, suspended_days=10)
    second = sentence(date(2025, 3, 5), incarceration_days=10, follows=first)
    assert calc(second, first).starts_on == date(2025, 3, 5)


def test_consecutive_loop_is_an_error_step_not_an_exception() -> None:
    first = sentence(date(2025, 3, 1), incarceration_days=10)
    second = sentence(date(2025, 3, 1), incarceration_days=10, follows=first)
    first.relation, first.consecutive_to_id = SentenceRelation.CONSECUTIVE, second.pk
    results = calculate([first, second])
    for pk in (first.pk, second.pk):
        assert results[pk].error
        assert results[pk].max_release_on is None
        assert any("form a loop" in step for step in results[pk].steps)


def test_sentence_consecutive_to_itself_is_a_loop() -> None:
    item = sentence(date(2025, 3, 1), incarceration_days=10)
    item.relation, item.consecutive_to_id = SentenceRelation.CONSECUTIVE, item.pk
    assert any("form a loop" in step for step in calc(item).steps)


def test_sentence_following_a_loop_cannot_be_computed_either() -> None:
    first = sentence(date(2025, 3, 1), incarceration_days=10)
    second = sentence(date(2025, 3, 1), incarceration_days=10, follows=first)
    first.relation, first.consecutive_to_id = SentenceRelation.CONSECUTIVE, second.pk
    third = sentence(date(2025, 3, 2), incarceration_days=10, follows=second)
    result = calc(third, first, second)
    assert result.error
    assert "whose dates could not be computed" in result.steps[1]


def test_consecutive_to_another_persons_sentence_is_an_error_step() -> None:
    theirs = sentence(date(2025, 3, 1), person_id=2, incarceration_days=10)
    mine = sentence(date(2025, 3, 1), person_id=1, incarceration_days=10, follows=theirs)
    result = calc(mine, theirs)
    assert result.error
    assert result.starts_on is None
    assert "not one of this person's sentences" in result.steps[1]


def test_consecutive_to_a_sentence_not_given_is_an_error_step() -> None:
    missing = sentence(date(2025, 3, 1), incarceration_days=10)
    result = calc(sentence(date(2025, 3, 1), incarceration_days=10, follows=missing))
    assert result.error


def test_consecutive_without_a_target_runs_from_imposition_and_says_so() -> None:
    item = sentence(date(2025, 3, 1), incarceration_days=10)
    item.relation = SentenceRelation.CONSECUTIVE
    result = calc(item)
    assert result.starts_on == date(2025, 3, 1)
    assert result.steps[1].startswith("Marked consecutive but names no sentence")


# ---------------------------------------------------------------------------------------
# Stored results


@pytest.mark.django_db
def test_recalculate_stores_dates_and_steps_on_each_sentence() -> None:
    person = PersonFactory.create()
    first = SentenceFactory.create(
        person=person, imposed_on=date(2025, 3, 1), incarceration_days=10
    )
    second = SentenceFactory.create(
        person=person,
        imposed_on=date(2025, 3, 1),
        incarceration_days=10,
        probation_days=365,
        relation=SentenceRelation.CONSECUTIVE,
        consecutive_to=first,
    )
    person_sentences_recalculate(person)
    second.refresh_from_db()
    assert second.starts_on == date(2025, 3, 11)
    assert second.max_release_on == date(2025, 3, 20)
    assert second.supervision_ends_on == date(2026, 3, 20)
    assert second.calculation[-1].endswith("supervision ends 2026-03-20")


@pytest.mark.django_db
def test_recalculate_names_the_docket_of_the_sentence_followed() -> None:
    person = PersonFactory.create()
    case = CaseFactory.create(person=person, docket_number="H14H-CR25-0000001")
    first = SentenceFactory.create(
        person=person, case=case, imposed_on=date(2025, 3, 1), incarceration_days=10
    )
    second = SentenceFactory.create(
        person=person,
        imposed_on=date(2025, 3, 1),
        incarceration_days=10,
        relation=SentenceRelation.CONSECUTIVE,
        consecutive_to=first,
    )
    person_sentences_recalculate(person)
    second.refresh_from_db()
    assert "sentence of 2025-03-01 (docket H14H-CR25-0000001)" in second.calculation[1]


@pytest.mark.django_db
def test_recalculate_of_a_loop_stores_no_dates() -> None:
    person = PersonFactory.create()
    first = SentenceFactory.create(person=person, incarceration_days=10)
    second = SentenceFactory.create(
        person=person,
        incarceration_days=10,
        relation=SentenceRelation.CONSECUTIVE,
        consecutive_to=first,
    )
    Sentence.objects.filter(pk=first.pk).update(
        relation=SentenceRelation.CONSECUTIVE, consecutive_to=second
    )
    person_sentences_recalculate(person)
    first.refresh_from_db()
    assert first.max_release_on is None
    assert first.starts_on is None
    assert "form a loop" in " ".join(first.calculation)


@pytest.mark.django_db
def test_recalculate_twice_writes_nothing_the_second_time() -> None:
    person = PersonFactory.create()
    SentenceFactory.create(person=person, incarceration_days=10)
    person_sentences_recalculate(person)
    with CaptureQueriesContext(connection) as queries:
        person_sentences_recalculate(person)
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]
