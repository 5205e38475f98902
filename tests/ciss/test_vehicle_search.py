"""Vehicle search: whole plates whichever way O/0 and I/1 were typed, partial plates with
wildcards, VINs, the state filter, and what each result tells the officer."""

import random
import re
from datetime import date
from typing import Any

import pytest
from django.db import connection

from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import plate_key, plate_positions, wildcard_positions, wildcard_regex
from ciss.vehicle_search import VehicleQueryError, parse_query, search_vehicles
from obts.models import CaseStatus, Flag, WarrantStatus
from obts.selectors import Visibility
from obts.status import person_recompute
from tests.obts.factories_records import CaseFactory, PersonFactory, WarrantFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
AS_OF = "2026-11-01T12:00:00Z"


def add(plate: str, state: str = "CT", source_id: str | None = None, **fields: Any) -> Vehicle:
    return Vehicle.objects.create(
        source_system="DMV-REG",
        source_id=source_id or f"{state}-{plate}",
        as_of=AS_OF,
        plate=plate,
        plate_key=plate_key(plate),
        plate_state=state,
        **fields,
    )


def plates(**query: Any) -> list[str]:
    return [
        f"{r.vehicle.plate_state} {r.vehicle.plate}"
        for r in search_vehicles(parse_query(**query), today=TODAY)
    ]


def test_a_whole_plate_is_found_however_o_0_i_1_were_typed() -> None:
    add("ABC1234")
    add("OKK100")
    assert plates(plate="abc-1234") == ["CT ABC1234"]
    assert plates(plate="ABCI234") == ["CT ABC1234"]
    assert plates(plate="0KKIOO") == ["CT OKK100"]


def test_the_exact_spelling_comes_before_a_look_alike() -> None:
    add("ABC1234")
    add("ABCI234", state="NY")
    results = search_vehicles(parse_query(plate="ABCI234"), today=TODAY)
    assert [r.vehicle.plate for r in results] == ["ABCI234", "ABC1234"]
    assert results[0].matched == "plate exactly"
    assert results[1].matched == "plate, reading O as 0 and I as 1"


def test_the_state_narrows_the_search() -> None:
    add("ABC1234", "CT")
    add("ABC1234", "NY")
    assert plates(plate="ABC1234", state="ny") == ["NY ABC1234"]
    assert len(plates(plate="ABC1234")) == 2


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("ABC*", ["CT ABC1234", "CT ABC99"]),
        ("*1234", ["CT ABC1234", "CT XYZ1234"]),
        ("A?C12?4", ["CT ABC1234"]),
        ("XY?1*", ["CT XYZ1234"]),
        # No three known characters in a row: answered by the characters' places.
        ("A?C?2?4", ["CT ABC1234"]),
        ("T?84?38", ["CT T184338", "CT TX84O38"]),
        ("*1?4?3?", ["CT T184338"]),
        ("T??4?3*", ["CT T184338", "CT T1843385", "CT TX84O38"]),
        ("Q?S*7", ["CT QRS777"]),
        ("A??1??4", ["CT ABC1234"]),
        ("?B?1?3*", ["CT ABC1234"]),
    ],
)
def test_partial_plates_with_wildcards(pattern: str, expected: list[str]) -> None:
    for plate in ("ABC1234", "ABC99", "XYZ1234", "QRS777", "T184338", "TX84O38", "T1843385"):
        add(plate)
    assert plates(plate=pattern) == expected


def test_every_plate_a_pattern_matches_holds_the_patterns_positions() -> None:
    """The positions narrow the search on PostgreSQL: a plate matching the pattern but
    missing one of them would never be found there."""
    chance = random.Random(7)
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789OI"
    for _ in range(3000):
        plate = "".join(chance.choice(alphabet) for _ in range(chance.randint(2, 8)))
        pattern = [char if chance.random() < 0.6 else "?" for char in plate]
        if chance.random() < 0.5:
            start = chance.randint(0, len(pattern))
            end = chance.randint(start, len(pattern))
            pattern[start:end] = ["*"]
        text = "".join(pattern)
        key = plate_key(plate)
        assert re.match(wildcard_regex(text, plate_key), key), (plate, text)
        assert set(wildcard_positions(text, plate_key)) <= set(plate_positions(key)), (plate, text)


def test_the_positions_of_a_pattern() -> None:
    assert wildcard_positions("*XYZ", plate_key) == ["e1:Z1Y", "e1:Z2X", "e2:Y1X"]
    # Characters in no pair stand alone, counted from both ends when the length is known.
    assert wildcard_positions("Q??0?5?", plate_key) == ["e2:520", "e7:0", "s1:0", "s4:025"]
    # Folded as the keys are: O reads as 0.
    assert wildcard_positions("O?1*", plate_key) == ["s1:021"]
    assert wildcard_positions("*12*", plate_key) == []


def test_a_pattern_asks_the_index_for_its_rarest_entries_only() -> None:
    # Each entry costs the index a walk of its list: four rare ones are enough.
    assert wildcard_positions("ABCD*", plate_key) == ["s1:A1B", "s1:A2C", "s2:B1C", "s2:B2D"]
    # Pairs with letters are rarer than pairs of digits, and pairs rarer than singles.
    assert wildcard_positions("T?84?38", plate_key) == ["e1:813", "e2:324", "e5:82T", "s1:T28"]
    assert wildcard_positions("A??B??C", plate_key) == ["e1:C", "e4:B", "e7:A", "s1:A"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL's")
def test_the_database_indexes_the_positions_the_code_names() -> None:
    with connection.cursor() as cursor:
        for key in ("T184338", "AB", "A", "0KK100", "ABCDEFGHJK"):
            cursor.execute("SELECT ciss_plate_positions(%s)", [key])
            (stored,) = cursor.fetchone()
            assert sorted(stored) == sorted(plate_positions(key)), key


def test_a_vin_is_found_exactly() -> None:
    add("ABC1234", vin="1HGCM82633A004352")
    results = search_vehicles(parse_query(vin="1hgcm82633a004352"), today=TODAY)
    assert [r.matched for r in results] == ["VIN"]


def test_results_carry_status_expiry_stolen_and_the_owners_flags() -> None:
    owner = PersonFactory.create(flags=[Flag.WANTED, Flag.PROBATION])
    add(
        "ABC1234",
        person=owner,
        owner_name="Jordan Doe",
        registration_expires=date(2026, 10, 31),
        stolen=True,
    )
    (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.expired
    assert result.registration_status == RegistrationStatus.EXPIRED
    assert result.vehicle.stolen
    assert result.owner is not None
    assert result.owner.flags == [Flag.WANTED, Flag.PROBATION]
    assert result.owner.id == str(owner.public_id)


def test_an_owners_sealed_case_does_not_show_through_the_flags() -> None:
    owner = PersonFactory.create(flags=[Flag.PENDING_CASE])
    CaseFactory.create(person=owner, is_sealed=True, status=CaseStatus.PENDING)
    add("ABC1234", person=owner)
    (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.owner is not None
    assert result.owner.flags == []


def test_flags_a_reader_may_see_are_read_from_the_owner_in_the_same_query(
    django_assert_num_queries: Any,
) -> None:
    owner = PersonFactory.create()
    CaseFactory.create(person=owner, is_sealed=True, status=CaseStatus.PENDING)
    WarrantFactory.create(person=owner, status=WarrantStatus.ACTIVE)
    person_recompute(owner)
    add("ABC1234", person=owner)
    with django_assert_num_queries(1):
        (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.owner is not None
    assert result.owner.flags == [Flag.WANTED]
    (seen_by_all,) = search_vehicles(
        parse_query(plate="ABC1234"), visibility=Visibility(sealed=True, juvenile=True)
    )
    assert seen_by_all.owner is not None
    assert seen_by_all.owner.flags == [Flag.WANTED, Flag.PENDING_CASE]


def test_a_sealed_case_of_the_survivor_of_a_merged_owner_stays_hidden() -> None:
    survivor = PersonFactory.create(flags=[Flag.PENDING_CASE])
    CaseFactory.create(person=survivor, is_sealed=True, status=CaseStatus.PENDING)
    add("ABC1234", person=PersonFactory.create(merged_into=survivor))
    (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.owner is not None
    assert result.owner.id == str(survivor.public_id)
    assert result.owner.flags == []


def test_an_owner_merged_away_is_shown_as_the_survivor() -> None:
    survivor = PersonFactory.create()
    merged = PersonFactory.create(merged_into=survivor)
    add("ABC1234", person=merged)
    (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.owner is not None
    assert result.owner.id == str(survivor.public_id)


def test_a_search_is_one_query(django_assert_num_queries: Any) -> None:
    for n in range(5):
        owner = PersonFactory.create()
        person_recompute(owner)  # as every intake does: restricted views stored
        add(f"ABC12{n}", person=owner)
    query = parse_query(plate="ABC*")
    with django_assert_num_queries(1):
        assert len(search_vehicles(query, today=TODAY)) == 5


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({}, "plate", "Give a plate"),
        ({"plate": "A*"}, "plate", "at least 3 known characters"),
        ({"plate": "AB#12"}, "plate", "letters and digits"),
        ({"plate": "ABC123", "state": "Conn"}, "state", "two-letter code"),
        ({"vin": "123"}, "vin", "17 letters and digits"),
        ({"plate": "ABC123", "limit": 0}, "limit", "between 1 and 100"),
    ],
)
def test_bad_searches_say_what_is_wrong(query: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(VehicleQueryError) as error:
        parse_query(**query)
    assert error.value.field == field
    assert message in error.value.message


@pytest.mark.parametrize("cap", [500, 2])
def test_a_plate_in_many_states_comes_in_state_order_up_to_the_limit(
    cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past the cap the database orders the rows; below it they are ordered in Python.
    monkeypatch.setattr("ciss.vehicle_search.EXACT_CAP", cap)
    for state in ("NY", "CT", "RI", "MA"):
        add("ABC1234", state=state)
    add("ABCI234", state="CT", source_id="CT-look-alike")
    # The first three in state order, then the exact spellings before the look-alike.
    assert plates(plate="ABC1234", limit=3) == ["CT ABC1234", "MA ABC1234", "CT ABCI234"]
    assert plates(plate="ABC1234") == [
        "CT ABC1234",
        "MA ABC1234",
        "NY ABC1234",
        "RI ABC1234",
        "CT ABCI234",
    ]


def test_an_owner_merged_twice_is_shown_as_the_last_survivor(
    django_assert_num_queries: Any,
) -> None:
    last = PersonFactory.create()
    person_recompute(last)  # restricted views stored, as intake does
    middle = PersonFactory.create(merged_into=last)
    add("ABC1234", person=PersonFactory.create(merged_into=middle))
    add("XYZ9876", person=PersonFactory.create())
    # The vehicle with its owner, then one query per merge hop.
    with django_assert_num_queries(3):
        (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.owner is not None
    assert result.owner.id == str(last.public_id)
