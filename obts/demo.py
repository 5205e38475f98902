"""Demo people for the offender-tracking pages: a synthetic population plus a few
hand-made people whose records show every flag. Idempotent: nothing is added twice."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from obts.models import PersonSource
from obts.synthetic import Generator, SynthName, SynthPerson
from obts.synthetic_load import SOURCE_SYSTEMS, load, load_batch

POPULATION = 2000
POPULATION_SEED = 2026
# Numbers far above the synthetic population's, so their SIDs and source ids never clash.
SHOWCASE_START = 9_000_000


def _showcase(today: date) -> list[SynthPerson]:
    """People a trainer can search for by name to show each flag."""
    neumann = SynthPerson(
        number=SHOWCASE_START,
        sex="F",
        race="W",
        height_in=66,
        weight_lb=140,
        eye_color="BLU",
        hair_color="BRO",
        primary=SynthName("Michaela", "", "Neumann", "", date(1985, 11, 11)),
        aliases=[SynthName("Mickey", "", "Neumann", "", date(1985, 11, 11))],
        sid="CT1234567",
        address={
            "line1": "8 Stanley St",
            "city": "Hartford",
            "state": "CT",
            "postal_code": "06105",
        },
        caution="Assaulted an officer during a prior arrest",
    )
    neumann.warrants.append(
        {
            "source_id": "WAR-DEMO-1",
            "kind": "paperless re-arrest",
            "warrant_number": "W2026-0042",
            "issued_on": today - timedelta(days=12),
            "court": "GA14",
            "offense": "Failure to appear 2nd degree",
            "status": "active",
        }
    )
    neumann.orders.append(
        {
            "source_id": "PO-DEMO-1",
            "kind": "protective",
            "order_number": "PO2026-0107",
            "issuing_court": "GA14",
            "protected_party": "Jordan Neumann",
            "conditions": "No contact; stay 100 yards away from the protected person",
            "issued_on": today - timedelta(days=40),
            "expires_on": today + timedelta(days=325),
            "status": "active",
        }
    )
    neumann.cases.append(
        {
            "source_id": "CASE-DEMO-1",
            "docket_number": "H14H-CR26-0123456",
            "court_code": "GA14",
            "arresting_agency_ori": "CT0006400",
            "arrest_date": today - timedelta(days=9),
            "arraignment_date": today - timedelta(days=8),
            "next_court_date": today + timedelta(days=20),
            "status": "pending",
            "bail_amount": Decimal("5000.00"),
            "release_conditions": "No contact with the protected person",
            "is_juvenile": False,
            "is_sealed": False,
            "charges": [
                {
                    "sequence": 1,
                    "statute": "53a-223",
                    "description": "Criminal violation of a protective order",
                    "charge_class": "felony_d",
                    "counts": 1,
                    "plea": "",
                    "disposition": "",
                    "disposition_date": None,
                }
            ],
        }
    )
    return [neumann]


def seed() -> str:
    """Load the demo people unless they are already there; says what it did."""
    today = timezone.localdate()
    messages = []
    person_source = SOURCE_SYSTEMS["person"]
    if not PersonSource.objects.filter(source_system=person_source, source_id="SYN-0").exists():
        load(Generator(POPULATION_SEED, today).persons(POPULATION), today=today)
        messages.append(f"{POPULATION:,} synthetic people")
    showcase = [
        person
        for person in _showcase(today)
        if not PersonSource.objects.filter(
            source_system=person_source, source_id=f"SYN-{person.number}"
        ).exists()
    ]
    if showcase:
        load_batch(showcase, today)
        messages.append(", ".join(str(p.primary) for p in showcase))
    return "Offender tracking: " + ("; ".join(messages) if messages else "already loaded")
