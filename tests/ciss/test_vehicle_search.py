"""Vehicle search: whole plates whichever way O/0 and I/1 were typed, partial plates with
wildcards, VINs, the state filter, and what each result tells the officer."""

from datetime import date
from typing import Any

import pytest

from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import plate_key
from ciss.vehicle_search import VehicleQueryError, parse_query, search_vehicles
from obts.models import CaseStatus, Flag
from tests.obts.factories_records import CaseFactory, PersonFactory

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
    ],
)
def test_partial_plates_with_wildcards(pattern: str, expected: list[str]) -> None:
    for plate in ("ABC1234", "ABC99", "XYZ1234", "QRS777"):
        add(plate)
    assert plates(plate=pattern) == expected


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


def test_an_owner_merged_away_is_shown_as_the_survivor() -> None:
    survivor = PersonFactory.create()
    merged = PersonFactory.create(merged_into=survivor)
    add("ABC1234", person=merged)
    (result,) = search_vehicles(parse_query(plate="ABC1234"), today=TODAY)
    assert result.owner is not None
    assert result.owner.id == str(survivor.public_id)


def test_a_search_is_two_queries(django_assert_num_queries: Any) -> None:
    for n in range(5):
        add(f"ABC12{n}", person=PersonFactory.create())
    query = parse_query(plate="ABC*")
    with django_assert_num_queries(2):
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
