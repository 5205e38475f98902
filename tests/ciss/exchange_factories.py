"""What the exchange tests share: a court location with its court and state's attorney,
the people who receive notices there, the default routing rules, payload builders and a
way to submit through the API."""

import copy
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.test import Client, TestCase
from django.urls import reverse

from ciss.exchanges.defaults import routing_rules_install
from ciss.models import CourtLocation, Delivery, Exchange
from portal.models import Agency, AgencyKind, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role
from tests.factories import AgencyFactory, UserFactory, add_totp_device, make_api_client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

POLICE_ORI = "CT0006400"

NOTICE: dict[str, Any] = {
    "type": "early_arrest_notice",
    "agency_ori": POLICE_ORI,
    "incident_number": "2026-000123",
    "occurred_at": "2026-11-20T14:03:00-05:00",
    "subject": {
        "first_name": "Michaela",
        "last_name": "Neumann",
        "dob": "1985-11-11",
        "sex": "F",
        "sid": "",
        "fbi_number": "",
        "dl_number": "",
        "address": {"line1": "8 Stanley St", "city": "Hartford", "state": "CT"},
    },
    "charges": [
        {
            "statute": "53a-125b",
            "description": "Larceny 6th degree",
            "severity": "misdemeanor",
            "class": "C",
            "counts": 1,
        }
    ],
    "court": {"code": "GA14"},
    "arraignment_date": "2026-11-21",
    "narrative": "Observed concealing merchandise; admitted the theft.",
}


def notice(**changes: Any) -> dict[str, Any]:
    """An early arrest notice from the Hartford police for GA14, with ``changes``."""
    payload = copy.deepcopy(NOTICE)
    payload.update(changes)
    return payload


def schedule(**changes: Any) -> dict[str, Any]:
    """A court schedule notification from GA14's court for a Hartford arrest, with
    ``changes``."""
    payload: dict[str, Any] = {
        "type": "court_schedule_notification",
        "agency_ori": "CT015013J",
        "incident_number": "2026-000123",
        "arresting_agency_ori": POLICE_ORI,
        "docket_number": "H14H-CR26-0123456",
        "court": {"code": "GA14"},
        "court_date": "2026-12-04",
        "hearing": "pretrial",
    }
    payload.update(changes)
    return payload


@dataclass
class Court:
    """GA14: its court (two clerks who receive notices, one who does not), its state's
    attorney (one prosecutor), the sending police department and its RMS key."""

    police: Agency
    court: Agency
    prosecutor_office: Agency
    location: CourtLocation
    clerk: User
    second_clerk: User
    clerk_without_claim: User
    prosecutor: User
    key: str


def court_setup() -> Court:
    police = AgencyFactory.create(ori=POLICE_ORI, name="Hartford Police Department")
    court = AgencyFactory.create(
        ori="CT015013J", name="Superior Court GA 14, Hartford", kind=AgencyKind.COURT
    )
    prosecutors = AgencyFactory.create(
        ori="CT015011A", name="State's Attorney, Hartford", kind=AgencyKind.PROSECUTOR
    )
    location = CourtLocation.objects.create(
        code="GA14",
        name="Geographical Area 14, Hartford",
        town="Hartford",
        court_agency=court,
        prosecutor_agency=prosecutors,
    )
    routing_rules_install()
    notices = [Claim.RECEIVE_ARREST_NOTICES, Claim.CRIMINAL_HISTORY]
    clerk = UserFactory.create(
        username="clerk", agency=court, roles=[Role.COURT_CLERK], claims=notices
    )
    second = UserFactory.create(
        username="clerk2", agency=court, roles=[Role.COURT_CLERK], claims=notices
    )
    no_claim = UserFactory.create(username="clerk3", agency=court, roles=[Role.COURT_CLERK])
    prosecutor = UserFactory.create(
        username="prosecutor", agency=prosecutors, roles=[Role.PROSECUTOR], claims=notices
    )
    for user in (clerk, second, no_claim, prosecutor):
        add_totp_device(user)
    _, key = make_api_client(police, [ApiScope.EXCHANGES_SUBMIT], name="Hartford RMS")
    return Court(police, court, prosecutors, location, clerk, second, no_claim, prosecutor, key)


def submit(
    client: Client, key: str, payload: Any, *, idempotency_key: str | None = "auto"
) -> "Response":
    """POST ``payload`` with a fresh idempotency key (or the one given; None sends none),
    then run what the request queued on commit (delivery; Celery is eager in tests)."""
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key == "auto":
        idempotency_key = str(uuid.uuid4())
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    # The delivery task is queued on commit: run it, as a committed request would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("api-exchanges"), payload, content_type="application/json", headers=headers
        )


def delivered_exchange(court: Court, client: Client, **changes: Any) -> Exchange:
    """An early arrest notice submitted and delivered (tasks run eagerly in tests)."""
    answer = submit(client, court.key, notice(**changes))
    assert answer.status_code == 202, answer.content
    return Exchange.objects.get(public_id=answer.json()["id"])


def inbox_of(user: User) -> list[Delivery]:
    return list(Delivery.objects.filter(recipient=user).select_related("exchange"))
