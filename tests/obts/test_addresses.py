"""The address normaliser: one place typed many ways gives one key (so a search for an
address finds who lives there and what happened there), and different places (another
apartment, another house number, another town) keep different keys."""

import pytest

from obts.addresses import location_key, normalize_address

HARTFORD = {"city": "Hartford", "state": "CT"}


@pytest.mark.parametrize(
    ("line1", "line2"),
    [
        ("12 North Main Street, Apt. 3", ""),
        ("12 N MAIN ST #3", ""),
        ("12 n. main st. apartment 3", ""),
        ("12 N Main St # 3", ""),
        ("12 North Main St", "Apartment 3"),
        ("  12   north  MAIN   street ", "#3"),
    ],
)
def test_equivalent_spellings_share_one_key(line1: str, line2: str) -> None:
    assert location_key(line1, line2, **HARTFORD) == "12 N MAIN ST APT 3, HARTFORD, CT"


def test_the_parts_are_stored_as_the_postal_service_abbreviates_them() -> None:
    address = normalize_address(
        "12 North Main Street", "Suite 200", "hartford", " ct ", "06105-1234"
    )
    assert (address.street_number, address.street_name, address.unit) == (
        "12",
        "N MAIN ST",
        "STE 200",
    )
    assert (address.city, address.state, address.postal_code) == ("HARTFORD", "CT", "06105-1234")
    assert str(address) == "12 N MAIN ST STE 200, HARTFORD, CT 06105-1234"


@pytest.mark.parametrize(
    ("typed", "street"),
    [
        ("40 Asylum Avenue", "ASYLUM AVE"),
        ("40 Asylum Av", "ASYLUM AVE"),
        ("9 Farmington Boulevard", "FARMINGTON BLVD"),
        ("9 Cedar Lane", "CEDAR LN"),
        ("9 Oak Terrace", "OAK TER"),
        ("9 Berlin Turnpike", "BERLIN TPKE"),
        ("5 Park Avenue South", "PARK AVE S"),
        ("5 Southwest Drive", "SOUTHWEST DR"),  # a street named for a direction
        ("5 Southwest Main Drive", "SW MAIN DR"),
    ],
)
def test_suffixes_and_directions_are_abbreviated(typed: str, street: str) -> None:
    assert normalize_address(typed).street_name == street


def test_a_suffix_word_inside_the_street_name_is_kept() -> None:
    # "Court" names the street here; only the last words carry the suffix.
    assert normalize_address("10 Court Street").street_name == "COURT ST"
    assert normalize_address("100 St Anne Avenue").street_name == "ST ANNE AVE"


def test_case_and_punctuation_do_not_matter() -> None:
    assert location_key("12 main st.,", city="HARTFORD", state="ct") == location_key(
        "12 MAIN ST", **HARTFORD
    )


@pytest.mark.parametrize(
    ("typed", "number", "street"),
    [
        ("12A Elm St", "12A", "ELM ST"),
        ("12a elm street", "12A", "ELM ST"),
        ("12-14 Elm St", "12-14", "ELM ST"),
        ("1/2 Elm St", "1/2", "ELM ST"),
    ],
)
def test_house_numbers_with_letters_ranges_and_halves_are_kept_whole(
    typed: str, number: str, street: str
) -> None:
    address = normalize_address(typed)
    assert (address.street_number, address.street_name) == (number, street)


def test_a_half_house_number_gives_one_key_however_the_street_is_spelled() -> None:
    assert location_key("12 1/2 Elm Street", **HARTFORD) == location_key(
        "12 1/2 ELM ST", **HARTFORD
    )
    assert location_key("12 1/2 Elm St", **HARTFORD) != location_key("12 Elm St", **HARTFORD)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("12 N Main St Apt 3", "12 N Main St Apt 4"),
        ("12 N Main St Apt 3", "12 N Main St Apt 3B"),
        ("12 N Main St Apt 3", "12 N Main St"),
        ("12 N Main St", "12 S Main St"),
        ("12 Main St", "12A Main St"),
        ("12 Main St", "14 Main St"),
        ("12 Main St", "12 Main Ave"),
    ],
)
def test_different_places_keep_different_keys(first: str, second: str) -> None:
    assert location_key(first, **HARTFORD) != location_key(second, **HARTFORD)


def test_the_same_street_in_another_town_is_another_place() -> None:
    assert location_key("12 Main St", city="Hartford", state="CT") != location_key(
        "12 Main St", city="New Britain", state="CT"
    )


def test_the_postal_code_is_kept_but_not_compared() -> None:
    # Often missing or wrong where the rest is right.
    with_code = normalize_address("12 Main St", city="Hartford", state="CT", postal_code="06105")
    without = normalize_address("12 Main St", city="Hartford", state="CT")
    assert with_code.key == without.key
    assert (with_code.postal_code, without.postal_code) == ("06105", "")


def test_a_half_number_is_part_of_the_house_number_however_written() -> None:
    dashed = normalize_address("12-1/2 Elm St", **HARTFORD)
    spaced = normalize_address("12 1/2 Elm St", **HARTFORD)

    assert (spaced.street_number, spaced.street_name) == ("12 1/2", "ELM ST")
    assert dashed.key == spaced.key


def test_a_street_named_for_a_direction_keeps_its_name() -> None:
    assert normalize_address("40 West St", **HARTFORD).street_name == "WEST ST"
    assert normalize_address("40 West Street", **HARTFORD).street_name == "WEST ST"
    assert normalize_address("40 West Main St", **HARTFORD).street_name == "W MAIN ST"
    assert normalize_address("40 Main St West", **HARTFORD).street_name == "MAIN ST W"


def test_apartment_unit_and_number_sign_are_the_same_door() -> None:
    keys = {
        location_key(line, **HARTFORD)
        for line in ("9 Oak Ave Unit 3", "9 Oak Ave Apt 3", "9 Oak Ave #3", "9 Oak Ave Apartment 3")
    }

    assert keys == {"9 OAK AVE APT 3, HARTFORD, CT"}
