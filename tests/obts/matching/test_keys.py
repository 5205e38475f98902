"""A stored name row is found by a query when the row's keys and the query's keys meet."""

import re
from datetime import date

import pytest

from obts.matching import KEY_KINDS, key_hashes, name_keys, query_keys
from obts.matching.dates import lenient_dobs
from obts.matching.keys import key_hash

DOB = date(1985, 5, 11)


def finds(
    row: tuple[str, str, str, date | None],
    first: str,
    last: str,
    dob: date | None = None,
    middle: str = "",
) -> bool:
    return bool(name_keys(*row) & query_keys(first, last, dob, middle=middle))


def test_exact_name_and_date_of_birth_are_found() -> None:
    assert finds(("John", "", "Smith", DOB), "John", "Smith", DOB)


@pytest.mark.parametrize(
    ("stored", "typed"),
    [("Smith", "Smyth"), ("Neumann", "Newman"), ("Phillips", "Filips"), ("Johnson", "Jonhson")],
)
def test_surname_spelled_as_it_sounds_is_found_without_a_date(stored: str, typed: str) -> None:
    assert finds(("John", "", stored, DOB), "John", typed)


def test_given_name_spelled_as_it_sounds_is_found_without_a_date() -> None:
    assert finds(("Catherine", "", "Moore", DOB), "Katherine", "Moore")


def test_surname_typo_that_changes_its_sound_is_found_without_a_date() -> None:
    assert finds(("Jill", "", "Carter", DOB), "Jill", "Cater")


def test_given_name_typo_in_the_first_letter_is_found_without_a_date() -> None:
    assert finds(("Matthew", "", "Evans", DOB), "Latthew", "Evans")


def test_surname_typo_beyond_its_codes_is_found_by_given_name_and_date() -> None:
    assert finds(("Nathaniel", "", "Brown", DOB), "Nathaniel", "Zrown", DOB)


def test_both_names_misspelled_are_found_by_date_and_initials() -> None:
    assert finds(("William", "", "Johnson", DOB), "Wlliam", "Johnsln", DOB)


def test_both_names_misspelled_and_swapped_are_found_by_date_and_initials() -> None:
    assert finds(("Johnson", "", "William", DOB), "Wlliam", "Johnsln", DOB)
    assert finds(("William", "", "Johnson", DOB), "Johnsln", "Wlliam", DOB)


def test_names_swapped_add_no_date_and_initials_keys() -> None:
    """One ``DI`` key per near-miss date serves both name orders: they are most of a full
    query's keys, each an index probe."""
    both = query_keys("William", "Johnson", DOB)
    one_order = query_keys("William", "Johnson", DOB, swapped=False)
    assert {k for k in both if k.startswith("DI:")} == {k for k in one_order if k.startswith("DI:")}
    assert len({k for k in both if k.startswith("DI:")}) == len(lenient_dobs(DOB))


@pytest.mark.parametrize(
    ("stored", "typed"), [("William", "Bill"), ("Bill", "William"), ("Margaret", "Peggy")]
)
def test_nickname_and_formal_name_find_each_other(stored: str, typed: str) -> None:
    assert finds((stored, "", "Smith", None), typed, "Smith")


def test_two_nicknames_of_one_name_find_each_other() -> None:
    assert finds(("Mickey", "", "Neumann", None), "Mike", "Neumann")


def test_accents_do_not_matter() -> None:
    assert finds(("José", "", "García", DOB), "Jose", "Garcia")


@pytest.mark.parametrize("typed", ["Garcia", "Lopez", "Garcia Lopez", "García-López"])
def test_either_part_of_a_hyphenated_surname_finds_it(typed: str) -> None:
    assert finds(("María", "", "García-López", DOB), "Maria", typed)
    assert finds(("María", "", "García-López", DOB), "Maria", typed, DOB)


def test_hyphenated_query_finds_a_single_surname() -> None:
    assert finds(("María", "", "García", DOB), "Maria", "García-López", DOB)


@pytest.mark.parametrize("typed", ["Cruz", "Delacruz", "de la Cruz"])
def test_particle_surname_is_found_with_or_without_particles(typed: str) -> None:
    assert finds(("Juan", "", "De La Cruz", DOB), "Juan", typed, DOB)


def test_mc_and_mac_find_each_other() -> None:
    assert finds(("Ann", "", "MacDonald", None), "Ann", "McDonald")


def test_apostrophe_surname_is_found_without_it() -> None:
    assert finds(("Sean", "", "O'Brien", None), "Sean", "OBrien")


@pytest.mark.parametrize("dob", [DOB, None])
def test_swapped_first_and_last_name_are_found(dob: date | None) -> None:
    assert finds(("John", "", "Smith", DOB), "Smith", "John", dob)


def test_alias_row_is_found_by_the_alias_name_and_date() -> None:
    alias_row = ("Mickey", "", "Neumann", date(1985, 11, 11))
    assert finds(alias_row, "Mickey", "Neumann", date(1985, 11, 11))


@pytest.mark.parametrize(
    "typed_dob",
    [
        date(1985, 11, 5),  # day and month swapped
        date(1985, 5, 12),  # one day off
        date(1985, 5, 10),
        date(1985, 8, 11),  # one digit wrong
        date(1984, 5, 11),  # year off by one
        date(1958, 5, 11),  # digits transposed
    ],
)
def test_near_miss_date_of_birth_is_found(typed_dob: date) -> None:
    assert finds(("John", "", "Smith", DOB), "John", "Smith", typed_dob)


def test_query_without_a_date_finds_a_row_with_one() -> None:
    assert finds(("John", "", "Smith", DOB), "John", "Smith")


def test_query_with_a_date_finds_a_row_without_one() -> None:
    assert finds(("John", "", "Smith", None), "John", "Smith", DOB)


@pytest.mark.parametrize("typed_dob", [DOB, date(1985, 11, 5), date(1985, 5, 12)])
def test_given_name_and_date_alone_find_the_person(typed_dob: date) -> None:
    assert finds(("Michaela", "", "Neumann", DOB), "Michaela", "", typed_dob)


def test_nickname_and_date_alone_find_the_person() -> None:
    assert finds(("William", "", "Smith", DOB), "Bill", "", DOB)


def test_surname_alone_finds_the_person() -> None:
    assert finds(("John", "", "Smith", DOB), "", "Smith")


def test_surname_and_near_miss_date_find_the_person() -> None:
    assert finds(("John", "", "Smith", DOB), "", "Smith", date(1985, 5, 12))


def test_given_name_alone_finds_the_person() -> None:
    assert finds(("Michaela", "", "Neumann", DOB), "Michaela", "")


def test_middle_name_used_as_given_name_is_found() -> None:
    assert finds(("John", "Edgar", "Hoover", None), "Edgar", "Hoover")


def test_row_with_initial_only_is_found_by_surname_and_date() -> None:
    assert finds(("J", "", "Smith", DOB), "John", "Smith", DOB)


def test_different_people_do_not_meet() -> None:
    assert not finds(("John", "", "Smith", DOB), "Mary", "Jones", date(1970, 2, 3))


def test_query_with_names_and_date_looks_up_no_name_only_keys() -> None:
    kinds = {key.split(":")[0] for key in query_keys("John", "Smith", DOB)}
    assert kinds.isdisjoint({"L", "F", "LF", "LT", "FT"})


def test_query_with_both_names_looks_up_no_bare_surname_keys() -> None:
    kinds = {key.split(":")[0] for key in query_keys("John", "Smith")}
    assert "L" not in kinds
    assert "F" not in kinds


def test_swapped_keys_can_be_left_out() -> None:
    assert query_keys("John", "Smith", DOB, swapped=False) < query_keys("John", "Smith", DOB)


def test_keys_are_short_ascii_with_a_known_kind() -> None:
    keys = name_keys("Maximiliano", "Christopher", "Aaronsonheimer-Vandermeulenhuysen", DOB)
    keys |= query_keys("Maximiliano", "Aaronsonheimer-Vandermeulenhuysen", DOB)
    for key in keys:
        assert re.fullmatch(r"[A-Za-z0-9_:]{3,63}", key), key
        assert key.split(":")[0] in KEY_KINDS


@pytest.mark.parametrize(("first", "last"), [("", ""), ("J", ""), (" ", "-")])
def test_query_without_a_usable_name_is_refused(first: str, last: str) -> None:
    with pytest.raises(ValueError, match="given name or a surname"):
        query_keys(first, last, DOB)


def test_row_without_a_name_has_no_keys() -> None:
    assert name_keys("", "", "", DOB) == set()


def test_dates_in_keys_are_spelled_as_the_stored_keys_spell_them() -> None:
    # Stored keys are hashes of these strings: a different spelling would find nothing.
    keys = name_keys("John", "", "Smith", date(1985, 5, 1))
    assert {"DI:19850501:JS", "LFY:mSM0:JN:1985", "LFMD:mSM0:JN:0501"} <= keys
    assert "DI:09850501:JS" in name_keys("John", "", "Smith", date(985, 5, 1))


def test_key_hashes_are_the_stored_ones() -> None:
    # The database holds these integers for every name row: a change in how a key is
    # hashed would make every stored key unreachable.
    keys = ["L:mSM0", "DI:19800517:JS", "LFY:sS530:JN:1980"]
    assert [key_hash(key) for key in keys] == [
        -1126718598239993046,
        -8279828154340650180,
        7440890251708331769,
    ]
    assert key_hashes([*keys, "L:mSM0"]) == [
        -8279828154340650180,
        -1126718598239993046,
        7440890251708331769,
    ]
