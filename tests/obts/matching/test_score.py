from dataclasses import replace
from datetime import date

import pytest

from obts.matching import CONFIDENT, POSSIBLE, Candidate, Query, rank, score

DOB = date(1985, 11, 11)
PERSON = Candidate(first="William", last="Smith", dob=DOB, sex="M", person_id="p1")
QUERY = Query(first="William", last="Smith", dob=DOB, sex="M")


def test_same_name_and_date_of_birth_scores_one_and_is_confident() -> None:
    match = score(QUERY, PERSON)
    assert match.score == 1.0
    assert match.confident


def test_nickname_is_explained() -> None:
    match = score(replace(QUERY, first="Bill"), PERSON)
    assert "nickname Bill \u2192 William" in match.reasons
    assert match.confident


def test_surname_that_sounds_alike_is_explained() -> None:
    match = score(replace(QUERY, last="Smyth"), PERSON)
    assert "surname sounds alike (Smyth ~ Smith)" in match.reasons
    assert match.confident


def test_surname_typo_is_explained() -> None:
    match = score(replace(QUERY, last="Smiht"), PERSON)
    assert any(r.startswith("surname s") and "(Smiht ~ Smith)" in r for r in match.reasons)


def test_accents_do_not_lower_the_score() -> None:
    person = Candidate(first="José", last="García", dob=DOB)
    assert score(Query(first="Jose", last="Garcia", dob=DOB), person).score == 1.0


def test_one_part_of_a_hyphenated_surname_is_explained_and_confident() -> None:
    person = Candidate(first="María", last="García-López", dob=DOB)
    match = score(Query(first="Maria", last="Lopez", dob=DOB), person)
    assert "surname matches part of García-López" in match.reasons
    assert match.confident


def test_swapped_first_and_last_name_are_explained() -> None:
    match = score(replace(QUERY, first="Smith", last="William"), PERSON)
    assert "first and last name swapped" in match.reasons
    assert match.confident


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (date(1985, 11, 11), "same date of birth"),
        (date(1985, 11, 12), "date of birth one day off"),
        (date(1984, 11, 11), "year of birth off by one"),
        (date(1985, 11, 19), "date of birth differs by one digit"),
        (date(1958, 11, 11), "date of birth has two digits transposed"),
        (date(1970, 3, 2), "date of birth differs"),
    ],
)
def test_date_of_birth_agreement_is_explained(typed: date, reason: str) -> None:
    assert reason in score(replace(QUERY, dob=typed), PERSON).reasons


def test_day_and_month_swapped_is_explained() -> None:
    person = replace(PERSON, dob=date(1985, 5, 11))
    match = score(replace(QUERY, dob=date(1985, 11, 5)), person)
    assert "date of birth day and month swapped" in match.reasons


def test_exact_date_beats_near_miss_beats_different_date() -> None:
    exact = score(QUERY, PERSON).score
    near = score(replace(QUERY, dob=date(1985, 11, 12)), PERSON).score
    different = score(replace(QUERY, dob=date(1970, 3, 2)), PERSON).score
    assert exact > near > different


def test_near_miss_date_with_same_names_is_possible_not_confident() -> None:
    match = score(replace(QUERY, dob=date(1985, 11, 12)), PERSON)
    assert match.possible
    assert not match.confident


def test_missing_date_of_birth_is_possible_not_confident() -> None:
    match = score(replace(QUERY, dob=None), PERSON)
    assert match.possible
    assert not match.confident


def test_same_names_with_a_different_date_are_below_possible() -> None:
    assert not score(replace(QUERY, dob=date(1970, 3, 2)), PERSON).possible


def test_unrelated_person_scores_low() -> None:
    match = score(Query(first="Mary", last="Jones", dob=date(1970, 3, 2), sex="F"), PERSON)
    assert match.score < 0.3


def test_sex_recorded_differently_lowers_the_score_and_says_so() -> None:
    match = score(replace(QUERY, sex="F"), PERSON)
    assert "sex differs (F vs M)" in match.reasons
    assert match.score < score(QUERY, PERSON).score


def test_unknown_sex_costs_nothing() -> None:
    assert score(replace(QUERY, sex=""), PERSON).score == 1.0


def test_father_and_son_suffixes_lower_the_score() -> None:
    match = score(replace(QUERY, last="Smith Jr"), replace(PERSON, suffix="Sr"))
    assert "generational suffix differs (Jr vs Sr)" in match.reasons
    assert not match.confident


def test_alias_row_is_explained() -> None:
    alias = Candidate(first="Mickey", last="Neumann", dob=DOB, is_alias=True)
    match = score(Query(first="Mickey", last="Neumann", dob=DOB), alias)
    assert "matched alias Mickey Neumann" in match.reasons


def test_exact_sid_dominates_different_names() -> None:
    person = replace(PERSON, sid="CT1234567")
    match = score(Query(first="Bob", last="Jones", sid="ct-1234567"), person)
    assert match.reasons[0] == "exact SID"
    assert match.score >= 0.9


def test_exact_fbi_number_is_explained() -> None:
    person = replace(PERSON, fbi_number="123456AB7")
    assert "exact FBI number" in score(replace(QUERY, fbi_number="123456ab7"), person).reasons


def test_exact_drivers_licence_in_the_same_state_is_explained() -> None:
    person = replace(PERSON, dl_number="123456789", dl_state="CT")
    match = score(replace(QUERY, dl_number="123 456 789", dl_state="CT"), person)
    assert "exact driver's licence" in match.reasons


def test_drivers_licence_of_another_state_does_not_match() -> None:
    person = replace(PERSON, dl_number="123456789", dl_state="CT")
    match = score(replace(QUERY, dl_number="123456789", dl_state="NY"), person)
    assert "exact driver's licence" not in match.reasons


def test_different_sid_keeps_same_names_and_date_from_being_confident() -> None:
    match = score(replace(QUERY, sid="CT0000001"), replace(PERSON, sid="CT7654321"))
    assert "different SID" in match.reasons
    assert not match.confident


def test_given_name_matching_the_middle_name_is_explained() -> None:
    person = Candidate(first="John", middle="Edgar", last="Hoover", dob=DOB)
    match = score(Query(first="Edgar", last="Hoover", dob=DOB), person)
    assert "first name matches middle name Edgar" in match.reasons
    assert match.confident


def test_first_initial_counts_a_little() -> None:
    initial = score(replace(QUERY, first="W"), PERSON).score
    other = score(replace(QUERY, first="Peter"), PERSON).score
    assert initial > other


def test_score_stays_within_zero_and_one() -> None:
    matched = score(replace(QUERY, sid="1"), replace(PERSON, sid="1", is_alias=True))
    empty = score(Query(), Candidate())
    assert 0.0 <= empty.score <= matched.score <= 1.0


def test_thresholds_are_ordered() -> None:
    assert 0 < POSSIBLE < CONFIDENT < 1


def test_rank_keeps_each_persons_best_row_best_first() -> None:
    rows = [
        Candidate(first="Mickey", last="Neumann", dob=DOB, is_alias=True, person_id="a"),
        Candidate(first="Michaela", last="Neumann", dob=DOB, person_id="a"),
        Candidate(first="Michael", last="Newman", dob=date(1960, 1, 2), person_id="b"),
    ]
    ranked = rank(Query(first="Michaela", last="Neumann", dob=DOB), rows)
    assert [(r.candidate.person_id, r.candidate.first) for r in ranked] == [
        ("a", "Michaela"),
        ("b", "Michael"),
    ]


def test_rank_prefers_a_primary_name_over_an_equal_alias() -> None:
    rows = [
        Candidate(first="Ann", last="Lee", dob=DOB, is_alias=True, person_id="x"),
        Candidate(first="Ann", last="Lee", dob=DOB, person_id="y"),
    ]
    assert rank(Query(first="Ann", last="Lee", dob=DOB), rows)[0].candidate.person_id == "y"


def test_rank_returns_at_most_the_limit() -> None:
    rows = [replace(PERSON, person_id=str(i)) for i in range(5)]
    assert len(rank(QUERY, rows, limit=2)) == 2
