"""Synthetic vehicles: owned by persons of the master name index, plates distinct per
state and shaped as issued, keys folded as searches fold them, valid VINs, and the same
vehicles for the same seed."""

import random
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from ciss.models import Vehicle
from ciss.plates import plate_key, vin_problem
from ciss.synthetic_vehicles import (
    SERIAL_LETTERS,
    Owner,
    VehicleGenerator,
    generate,
    owner_name,
    owners,
)
from ciss.vehicle_search import parse_query, search_vehicles
from obts.synthetic import Generator
from obts.synthetic_load import load

TODAY = date(2026, 11, 23)


def _vehicles(count: int, seed: int = 3) -> list[dict[str, object]]:
    generator = VehicleGenerator(seed, TODAY)
    return [generator.vehicle(n, Owner(n, f"OWNER {n}")) for n in range(count)]


def test_same_seed_makes_the_same_vehicles() -> None:
    assert _vehicles(200) == _vehicles(200)
    assert _vehicles(200) != _vehicles(200, seed=4)


def test_plates_are_distinct_per_state_and_carry_their_folded_key() -> None:
    vehicles = _vehicles(5000)
    pairs = {(v["plate_state"], v["plate_key"]) for v in vehicles}
    assert len(pairs) == len(vehicles)
    assert all(v["plate_key"] == plate_key(str(v["plate"])) for v in vehicles)


def test_serial_plates_avoid_letters_read_as_digits() -> None:
    serial = [str(v["plate"]) for v in _vehicles(3000) if v["plate_type"] != "vanity"]
    assert serial
    assert all(c.isdigit() or c in SERIAL_LETTERS for plate in serial for c in plate)


def test_most_plates_are_connecticut_in_its_shapes() -> None:
    vehicles = _vehicles(4000)
    ct = [str(v["plate"]) for v in vehicles if v["plate_state"] == "CT"]
    assert 0.8 < len(ct) / len(vehicles) < 0.9
    current = [p for p in ct if len(p) == 7 and p[:2].isalpha() and p[2:].isdigit()]
    older = [p for p in ct if len(p) == 6 and p[:3].isdigit() and p[3:].isalpha()]
    assert len(current) > len(ct) / 2
    assert len(older) > len(ct) / 6
    assert {v["plate_state"] for v in vehicles} >= {"NY", "MA", "RI", "NJ"}


def test_vehicles_have_valid_vins_and_a_mix_of_statuses() -> None:
    vehicles = _vehicles(4000)
    assert all(vin_problem(str(v["vin"])) is None for v in vehicles)
    statuses = {v["registration_status"] for v in vehicles}
    assert statuses >= {"valid", "expired", "suspended", "revoked"}
    assert any(v["stolen"] for v in vehicles)
    stale = [
        v
        for v in vehicles
        if v["registration_status"] == "valid" and v["registration_expires"] < TODAY  # type: ignore[operator]
    ]
    assert stale, "some valid registrations have run out since the registry last sent them"


def test_a_collision_is_drawn_again() -> None:
    first = _vehicles(1)[0]
    taken = {(str(first["plate_state"]), str(first["plate_key"]))}
    again = VehicleGenerator(3, TODAY, taken).vehicle(0, Owner(None, "X"))
    assert (again["plate_state"], again["plate_key"]) != (first["plate_state"], first["plate_key"])


def test_owner_name_reads_as_a_registry_writes_it() -> None:
    assert owner_name("John", "Allen", "Smith") == "SMITH, JOHN A"
    assert owner_name("", "", "Smith") == "SMITH"


@pytest.mark.django_db
def test_owners_are_persons_of_the_index_about_one_vehicle_each() -> None:
    load(Generator(5, TODAY).persons(200), today=TODAY)
    drawn = list(owners(200, random.Random(1)))
    assert len(drawn) == 200
    personal = [o for o in drawn if o.person_id is not None]
    assert 180 <= len(personal) < 200
    assert 100 < len({o.person_id for o in personal}) < 180


@pytest.mark.django_db
def test_without_persons_every_vehicle_belongs_to_a_company() -> None:
    drawn = list(owners(5, random.Random(1)))
    assert [o.person_id for o in drawn] == [None] * 5


@pytest.mark.django_db
def test_generated_vehicles_are_found_by_their_plate() -> None:
    load(Generator(6, TODAY).persons(50), today=TODAY)
    assert list(generate(60, seed=2, today=TODAY)) == [60]

    vehicle = Vehicle.objects.filter(person__isnull=False).order_by("pk").first()
    assert vehicle is not None
    results = search_vehicles(
        parse_query(plate=vehicle.plate, state=vehicle.plate_state), today=TODAY
    )
    assert [r.vehicle.pk for r in results] == [vehicle.pk]
    owner = results[0].owner
    assert owner is not None
    assert owner.pk == vehicle.person_id


@pytest.mark.django_db
def test_generate_vehicles_continues_the_numbering() -> None:
    load(Generator(7, TODAY).persons(30), today=TODAY)
    out = StringIO()
    call_command("generate_vehicles", count=20, stdout=out)
    call_command("generate_vehicles", count=10, seed=9, stdout=out)

    assert "Added 20 vehicles" in out.getvalue()
    assert "Added 10 vehicles" in out.getvalue()
    ids = set(Vehicle.objects.values_list("source_id", flat=True))
    assert ids == {f"SYNV-{n}" for n in range(30)}
    pairs = set(Vehicle.objects.values_list("plate_state", "plate_key"))
    assert len(pairs) == 30


def test_generate_vehicles_refuses_a_count_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("generate_vehicles", count=0)
    assert exit_info.value.code == 1
    assert "--count must be positive" in capsys.readouterr().err
