"""Demo vehicles for ``seed_demo``: registrations for some of the synthetic people (so a
plate search finds owners with flags), Michaela Neumann's car, a stolen car and a lapsed
registration. Deterministic; loaded once. Also the default routing rules and the demo
agencies' court locations, so a notice sent to GA14 reaches the demo clerk."""

import random
import string
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ciss.exchanges.defaults import demo_court_locations_install, routing_rules_install
from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import plate_key
from obts.demo import SHOWCASE_START
from obts.models import PersonSource
from obts.synthetic_load import SOURCE_SYSTEMS

SOURCE_SYSTEM = "DMV-REG"
OWNED = 400  # synthetic people SYN-0 ... SYN-399 get a vehicle each
SEED = 1985
CARS = [
    ("Honda", "Civic", "4-door sedan"),
    ("Toyota", "Camry", "4-door sedan"),
    ("Ford", "F-150", "pickup"),
    ("Chevrolet", "Malibu", "4-door sedan"),
    ("Nissan", "Rogue", "SUV"),
    ("Subaru", "Outback", "station wagon"),
    ("Jeep", "Grand Cherokee", "SUV"),
    ("Hyundai", "Elantra", "4-door sedan"),
]
COLORS = ["black", "white", "silver", "gray", "blue", "red", "green"]


def _plate(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    return f"{letters}{rng.randint(1000, 9999)}"


def _vehicle(source_id: str, plate: str, **fields: object) -> Vehicle:
    return Vehicle(
        source_system=SOURCE_SYSTEM,
        source_id=source_id,
        as_of=datetime.now(tz=UTC),
        plate=plate,
        plate_key=plate_key(plate),
        plate_state="CT",
        **fields,
    )


@transaction.atomic
def seed_routing() -> str:
    rules = routing_rules_install()
    courts = demo_court_locations_install()
    return f"Routing: {rules} rules and {courts} court locations added"


def seed() -> str:
    if Vehicle.objects.filter(source_system=SOURCE_SYSTEM).exists():
        return "Vehicles: already loaded"
    today = timezone.localdate()
    rng = random.Random(SEED)  # noqa: S311  (reproducible demo data, not secrets)
    owners = dict(
        PersonSource.objects.filter(
            source_system=SOURCE_SYSTEMS["person"],
            source_id__in=[f"SYN-{n}" for n in range(OWNED)] + [f"SYN-{SHOWCASE_START}"],
        ).values_list("source_id", "person_id")
    )
    vehicles = []
    for number in range(OWNED):
        person_id = owners.get(f"SYN-{number}")
        if person_id is None:
            continue
        make, model, style = rng.choice(CARS)
        lapsed = rng.random() < 0.08
        vehicles.append(
            _vehicle(
                f"V-{number}",
                _plate(rng),
                person_id=person_id,
                vin="",
                year=rng.randint(2005, today.year),
                make=make,
                model=model,
                style=style,
                color=rng.choice(COLORS),
                registration_expires=today - timedelta(days=rng.randint(1, 400))
                if lapsed
                else today + timedelta(days=rng.randint(30, 700)),
                stolen=rng.random() < 0.02,
            )
        )
    showcase = owners.get(f"SYN-{SHOWCASE_START}")
    vehicles += [
        _vehicle(
            "V-NEUMANN",
            "MKN1985",
            person_id=showcase,
            owner_name="Michaela Neumann",
            vin="1HGCM82633A004352",
            year=2003,
            make="Honda",
            model="Accord",
            style="4-door sedan",
            color="silver",
            registration_expires=today + timedelta(days=200),
        ),
        _vehicle(
            "V-STOLEN",
            "ABC1234",
            owner_name="Harbor Car Rentals LLC",
            year=2022,
            make="Toyota",
            model="RAV4",
            style="SUV",
            color="blue",
            registration_expires=today + timedelta(days=300),
            stolen=True,
        ),
        _vehicle(
            "V-SUSPENDED",
            "OKI404",
            owner_name="Dana Example",
            year=2011,
            make="Ford",
            model="Focus",
            style="hatchback",
            color="red",
            registration_status=RegistrationStatus.SUSPENDED,
            registration_expires=today - timedelta(days=90),
        ),
    ]
    Vehicle.objects.bulk_create(vehicles)
    return (
        f"Vehicles: {len(vehicles):,} (Michaela Neumann's MKN1985, a stolen ABC1234, a "
        "suspended OKI404)"
    )
