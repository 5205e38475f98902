"""Demo vehicles for ``seed_demo``: registrations for some of the synthetic people (so a
plate search finds owners with flags), Michaela Neumann's car, a stolen car and a lapsed
registration. Deterministic; loaded once. Also the default routing rules and the demo
agencies' court locations, so a notice sent to GA14 reaches the demo clerk.

Then a handful of police incident reports and the property that came with them — a
burglary, a domestic disturbance at Michaela Neumann's home, a motor vehicle theft and an
assault on a trooper — naming demo people in different roles, their registered cars and
their home addresses. They go through the ``incidents`` and ``property`` feeds as a
records system would send them, so they are stored exactly as real reports are."""

import random
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from ciss.exchanges.defaults import demo_court_locations_install, routing_rules_install
from ciss.models import Incident, RegistrationStatus, Vehicle
from ciss.plates import plate_key
from obts.demo import SHOWCASE_START
from obts.models import Address, PersonName, PersonSource
from obts.services.feeds import feed_kind, feed_records_upsert
from obts.services.intake import Outcome, Submitter
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
    """Load the demo vehicles, then the demo incidents and property (which name them);
    each part only once. Says what it did."""
    return f"{_seed_vehicles()}; {_seed_incidents()}"


def _seed_vehicles() -> str:
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


# Incidents and property -----------------------------------------------------------------

RMS_SOURCE = "DEMO-RMS"
HARTFORD_PD, NEW_HAVEN_PD, STATE_POLICE = "CT0006400", "CT0009300", "CTCSP0000"
# The driver who assaulted a trooper (a synthetic person's number). The burglary's
# victim and suspect are the first two synthetic people who live in Hartford, so the
# Hartford police report it.
DRIVER = 42


@dataclass(frozen=True)
class _Cast:
    """A demo person as a report names them."""

    ref: dict[str, str]
    name: str
    dob: date | None
    home: dict[str, str]
    plate: str


def _cast(numbers: list[int]) -> dict[int, _Cast]:
    """The demo people with these synthetic numbers: reference, primary name, date of
    birth, home address and the plate of their registered car (where they have one)."""
    sources = PersonSource.objects.filter(
        source_system=SOURCE_SYSTEMS["person"], source_id__in=[f"SYN-{n}" for n in numbers]
    ).prefetch_related(
        Prefetch(
            "person__names",
            queryset=PersonName.objects.filter(is_primary=True),
            to_attr="primary_names",
        ),
        Prefetch("person__addresses", queryset=Address.objects.order_by("pk"), to_attr="homes"),
        Prefetch(
            "person__vehicles",
            queryset=Vehicle.objects.filter(source_system=SOURCE_SYSTEM).order_by("pk"),
            to_attr="cars",
        ),
    )
    cast = {}
    for source in sources:
        person: Any = source.person
        if not person.primary_names or not person.homes:
            continue
        name, home = person.primary_names[0], person.homes[0]
        cast[int(source.source_id.removeprefix("SYN-"))] = _Cast(
            ref={"id": str(person.public_id)},
            name=str(name),
            dob=name.dob,
            home={
                "line1": home.line1,
                "line2": home.line2,
                "city": home.city,
                "state": home.state,
                "postal_code": home.postal_code,
            },
            plate=person.cars[0].plate if person.cars else "",
        )
    return cast


def _hartford_residents(count: int) -> list[int]:
    """The numbers of the first ``count`` synthetic people (of those with a car) whose
    home is in Hartford."""
    source_ids = PersonSource.objects.filter(
        source_system=SOURCE_SYSTEMS["person"],
        source_id__in=[f"SYN-{n}" for n in range(OWNED)],
        person__addresses__city="Hartford",
    ).values_list("source_id", flat=True)
    return sorted({int(source_id.removeprefix("SYN-")) for source_id in source_ids})[:count]


def _reports(
    victim: _Cast, burglar: _Cast, neumann: _Cast, driver: _Cast, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo incident reports and property records, dated back from ``now``."""

    def at(days: float, hour: int, minute: int = 0) -> str:
        day = timezone.localtime(now - timedelta(days=days))
        moment = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return moment.isoformat()

    def record(source_id: str, **fields: Any) -> dict[str, Any]:
        return {"source_system": RMS_SOURCE, "source_id": source_id, **fields}

    burglary = record(
        "HPD-INC-1",
        incident_number="HPD-26-004811",
        agency_ori=HARTFORD_PD,
        kind="Burglary, residential",
        occurred_at=at(21, 1, 40),
        reported_at=at(21, 7, 15),
        location=victim.home,
        summary=(
            "Rear door forced while the household slept. A handgun, a television and a "
            "bicycle taken. A neighbour saw a man load a car parked on the street."
        ),
        status="open",
        people=[
            {"person": victim.ref, "role": "victim"},
            {"person": victim.ref, "role": "complainant"},
            {"person": burglar.ref, "role": "suspect"},
            {"name": "Rosa Delgado", "role": "witness"},
        ],
        vehicles=[
            {
                "plate": burglar.plate,
                "plate_state": "CT",
                "description": "Seen parked in front of the house at 01:30",
                "role": "suspect",
            }
        ]
        if burglar.plate
        else [],
    )
    disturbance = record(
        "HPD-INC-2",
        incident_number="HPD-26-005377",
        agency_ori=HARTFORD_PD,
        kind="Domestic disturbance",
        occurred_at=at(9, 22, 5),
        reported_at=at(9, 22, 9),
        location=neumann.home,
        summary=(
            "Caller reported shouting and a door being kicked in. The respondent of an "
            "active protective order was found inside with the protected person; arrested "
            "for violating the order."
        ),
        docket_number="H14H-CR26-0123456",
        status="cleared by arrest",
        people=[
            {"person": neumann.ref, "role": "arrestee"},
            {"name": "Jordan Neumann", "role": "victim"},
            {"name": "Terrence Boyd", "role": "reporting_party"},
        ],
        vehicles=[
            {
                "plate": "MKN1985",
                "plate_state": "CT",
                "description": "Parked in the driveway",
                "role": "involved",
            }
        ],
    )
    car_theft = record(
        "NHPD-INC-1",
        incident_number="NHPD-26-012904",
        agency_ori=NEW_HAVEN_PD,
        kind="Motor vehicle theft",
        occurred_at=at(4, 18, 30),
        reported_at=at(3, 9, 0),
        location={
            "line1": "1 Long Wharf Drive",
            "city": "New Haven",
            "state": "CT",
            "postal_code": "06511",
        },
        location_text="Rental car lot, Long Wharf",
        summary="Rental car not returned; the key fob was copied at the counter.",
        status="open",
        people=[{"name": "Priya Raman, Harbor Car Rentals", "role": "complainant"}],
        vehicles=[
            {"plate": "ABC1234", "plate_state": "CT", "description": "Blue RAV4", "role": "stolen"}
        ],
    )
    assault = record(
        "CSP-INC-1",
        incident_number="CSP-26-T05-0331",
        agency_ori=STATE_POLICE,
        kind="Assault on public safety personnel",
        occurred_at=at(2, 23, 50),
        reported_at=at(1, 0, 35),
        location_text="I-84 westbound near exit 39, Farmington",
        summary=(
            "At a traffic stop the driver refused to leave the car, then struck the "
            "trooper and drew a knife. Driver arrested; car towed."
        ),
        status="cleared by arrest",
        people=[
            {"person": driver.ref, "role": "arrestee"},
            {"name": "Tpr. Kevin Alvarez", "role": "victim"},
        ],
        vehicles=[{"plate": driver.plate, "plate_state": "CT", "role": "towed"}]
        if driver.plate
        else [],
    )
    today = timezone.localdate(now)
    burgled = {"agency_ori": HARTFORD_PD, "incident_number": "HPD-26-004811"}
    items = [
        record(
            "HPD-PROP-1",
            category="firearm",
            serial_number="BXR 44719",
            make="Glock",
            model="19",
            caliber="9mm",
            description="Black semi-automatic pistol in a grey case",
            status="stolen",
            status_date=(today - timedelta(days=21)).isoformat(),
            person=victim.ref,
            location=victim.home,
            **burgled,
        ),
        record(
            "HPD-PROP-2",
            category="article",
            serial_number="SM-55Q80C-77120",
            make="Samsung",
            model="QN55Q80C",
            description='55" television',
            status="stolen",
            status_date=(today - timedelta(days=21)).isoformat(),
            person=victim.ref,
            **burgled,
        ),
        record(
            "HPD-PROP-3",
            category="bicycle",
            serial_number="WTU 1840 77C",
            owner_applied_number="CT-BIKE-2231",
            make="Trek",
            model="FX 2",
            description="Green hybrid bicycle",
            status="recovered",
            status_date=(today - timedelta(days=6)).isoformat(),
            person=victim.ref,
            location={"line1": "300 Main Street", "city": "Hartford", "state": "CT"},
            **burgled,
        ),
        record(
            "CSP-PROP-1",
            category="article",
            make="Kershaw",
            description="Folding knife, 3.5-inch blade, taken from the driver",
            status="evidence",
            status_date=(today - timedelta(days=1)).isoformat(),
            agency_ori=STATE_POLICE,
            incident_number="CSP-26-T05-0331",
            person=driver.ref,
        ),
    ]
    return [burglary, disturbance, car_theft, assault], items


def _seed_incidents() -> str:
    if Incident.objects.filter(source_system=RMS_SOURCE).exists():
        return "Incidents: already loaded"
    residents = _hartford_residents(2)
    cast = _cast([*residents, DRIVER, SHOWCASE_START])
    if len(residents) < 2 or len(cast) < 4:
        return "Incidents: skipped (the demo people are not loaded)"
    victim, burglar = cast[residents[0]], cast[residents[1]]
    incidents, items = _reports(victim, burglar, cast[SHOWCASE_START], cast[DRIVER], timezone.now())
    submitter = Submitter(command="seed_demo")
    for kind, records in (("incidents", incidents), ("property", items)):
        handler = feed_kind(kind)
        if handler is None:
            raise RuntimeError(f"The {kind} feed is not registered.")
        for result in feed_records_upsert(handler, records, submitter=submitter):
            if result.outcome == Outcome.ERROR:
                raise RuntimeError(f"Demo {kind} record {result.index} refused: {result.errors}")
    return (
        f"Incidents: {len(incidents)} reports (a burglary, a domestic disturbance at Michaela "
        f"Neumann's home, a motor vehicle theft, an assault on a trooper), {len(items)} "
        "property items"
    )
