"""Request bodies for the intake tests: a person as CONTRACT §3 shows it, and one valid
record of every feed kind with a change to make to it."""

import copy
from typing import TYPE_CHECKING, Any

from django.test import Client
from django.urls import reverse

from obts.services.intake import Submitter
from obts.services.persons import persons_upsert

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

SID = "CT1234567"
FBI_NUMBER = "123456AB7"


def person_body(**overrides: Any) -> dict[str, Any]:
    """The CONTRACT's example person (with ``overrides``)."""
    body: dict[str, Any] = {
        "source_system": "DPS-MNI",
        "source_id": "A-1001",
        "first_name": "Michaela",
        "middle_name": "",
        "last_name": "Neumann",
        "suffix": "",
        "dob": "1985-11-11",
        "sex": "F",
        "race": "W",
        "sid": SID,
        "fbi_number": "",
        "dl_number": "",
        "dl_state": "",
        "aliases": [{"first_name": "Mickey", "last_name": "Neumann", "dob": "1985-11-11"}],
        "addresses": [
            {"line1": "8 Stanley St", "city": "Hartford", "state": "CT", "postal_code": "06105"}
        ],
        "caution": "",
    }
    body.update(overrides)
    return body


def create_person(**overrides: Any) -> str:
    """Store a person through the intake service; return its public id."""
    (result,) = persons_upsert([person_body(**overrides)], submitter=Submitter(command="test"))
    assert result.instance is not None, result.errors
    return str(result.instance.public_id)


# One valid record of each kind (naming the person by SID), and a field change that makes
# an update of it.
FEED_RECORDS: dict[str, dict[str, Any]] = {
    "cases": {
        "docket_number": "H14H-CR26-0001234-S",
        "court_code": "GA14",
        "arresting_agency_ori": "CT0006400",
        "arrest_date": "2026-01-02",
        "arraignment_date": "2026-01-03",
        "status": "pending",
        "charges": [
            {
                "statute": "53a-125b",
                "description": "Larceny 6th degree",
                "charge_class": "misdemeanor_c",
            },
            {
                "statute": "53a-181",
                "description": "Breach of peace",
                "charge_class": "misdemeanor_b",
            },
        ],
    },
    "sentences": {
        "imposed_on": "2025-03-01",
        "incarceration_days": 365,
        "suspended_days": 0,
        "probation_days": 0,
    },
    "custody": {
        "facility": "Hartford Correctional Center",
        "inmate_number": "412345",
        "admission_type": "new arrest",
        "custody_status": "pretrial",
        "admitted_on": "2026-01-02",
    },
    "supervision": {
        "kind": "probation",
        "officer_name": "J. Rivera",
        "office": "Hartford Adult Probation",
        "start_date": "2025-06-01",
        "status": "active",
        "violations": [{"date": "2025-09-01", "description": "Missed a report", "outcome": ""}],
    },
    "protective-orders": {
        "kind": "protective",
        "order_number": "PO-26-001",
        "issuing_court": "GA14",
        "protected_party": "A. Neumann",
        "issued_on": "2026-01-03",
        "status": "active",
    },
    "warrants": {
        "kind": "paperless re-arrest",
        "warrant_number": "PRAWN-26-0042",
        "issued_on": "2026-01-04",
        "court": "GA14",
        "offense": "Failure to appear",
        "status": "active",
    },
    "registrations": {
        "registered_on": "2020-05-01",
        "term": "10 years",
        "term_ends_on": "2030-05-01",
        "compliance_status": "compliant",
    },
    "infractions": {
        "ticket_number": "T1234567",
        "offense_date": "2026-01-04",
        "statute": "14-219",
        "description": "Speeding",
        "amount": "150.00",
        "status": "open",
    },
}
FEED_CHANGES: dict[str, dict[str, Any]] = {
    "cases": {"status": "disposed"},
    "sentences": {"incarceration_days": 400},
    "custody": {"released_on": "2026-01-10", "release_type": "bond posted"},
    "supervision": {"status": "completed", "end_date": "2026-01-01"},
    "protective-orders": {"status": "vacated"},
    "warrants": {"status": "served", "served_on": "2026-01-06"},
    "registrations": {"compliance_status": "non_compliant"},
    "infractions": {"status": "paid"},
}
FEED_KINDS = sorted(FEED_RECORDS)


def feed_body(kind: str, source_id: str = "R-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_system": "TEST-SRC",
        "source_id": source_id,
        "as_of": "2026-01-05T12:00:00Z",
        "person": {"sid": SID},
        **copy.deepcopy(FEED_RECORDS[kind]),
    }
    body.update(overrides)
    return body


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_json(client: Client, url: str, body: Any, key: str) -> "Response":
    return client.post(url, body, content_type="application/json", headers=bearer(key))


def feed_url(kind: str) -> str:
    return reverse("api-feed", kwargs={"kind": kind})


def persons_url() -> str:
    return reverse("api-persons-upsert")
