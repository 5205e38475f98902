"""RMS vendor certification: the conformance checks of a vendor's test submissions.

A vendor's records system submits test exchanges through its API client; the runner reads
what that client sent in a window (default the last 30 days) and measures it:

- **Level 1** — early arrest notices that meet the quality checks: enough of them, the
  subject fully identified, charges coded, the court known (so the notice reaches its
  clerks), the arraignment date given, sent promptly after the arrest, and each incident
  sent once (a second notice for one incident under a new key reaches clerks twice).
- **Level 2** — on top of level 1: arrest packets, each with its arrest forms attached as
  PDF and following the incident's early arrest notice about the same person, and
  consumer searches (persons and vehicles) through the API.

A level is reached when every check of it and of the levels below passes. Each run is
kept as a ``CertificationReport`` and audited.
"""

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from ciss.models import (
    CertificationReport,
    Exchange,
    ExchangeAttachment,
    ExchangeStatus,
    ExchangeType,
)
from ciss.search import PERSONS_SEARCHED
from ciss.vehicle_search import VEHICLES_SEARCHED
from portal import audit
from portal.models import ApiClient, AuditEvent, User

DEFAULT_WINDOW = timedelta(days=30)
MIN_NOTICES = 10
MIN_PACKETS = 5
PROMPT_MINUTES = 60
EXAMPLES = 5
SUBJECT_FIELDS = ("first_name", "last_name", "dob", "sex")
IDENTIFIER_FIELDS = ("sid", "fbi_number", "dl_number")


@dataclass
class Check:
    level: int
    name: str
    description: str
    measured: str
    passed: bool
    examples: list[str] = field(default_factory=list)


def _share(good: int, total: int) -> float:
    return good / total if total else 0.0


def _percent(good: int, total: int) -> str:
    return f"{good} of {total} ({_share(good, total):.0%})"


def _ratio_check(
    level: int,
    name: str,
    description: str,
    exchanges: list[Exchange],
    ok: Any,
    *,
    at_least: float,
) -> Check:
    failing = [e for e in exchanges if not ok(e)]
    good = len(exchanges) - len(failing)
    return Check(
        level,
        name,
        description,
        _percent(good, len(exchanges)),
        bool(exchanges) and _share(good, len(exchanges)) >= at_least,
        [e.incident_number for e in failing[:EXAMPLES]],
    )


def _subject_complete(exchange: Exchange) -> bool:
    subject = exchange.payload.get("subject") or {}
    return all(subject.get(name) for name in SUBJECT_FIELDS)


def _identified(exchange: Exchange) -> bool:
    subject = exchange.payload.get("subject") or {}
    address = subject.get("address") or {}
    return any(subject.get(name) for name in IDENTIFIER_FIELDS) or bool(address.get("line1"))


def _charges_coded(exchange: Exchange) -> bool:
    charges = exchange.payload.get("charges") or []
    return bool(charges) and all(
        c.get("statute") and c.get("description") and c.get("severity") for c in charges
    )


def _prompt(exchange: Exchange) -> bool:
    if exchange.occurred_at is None:
        return False
    return exchange.received_at - exchange.occurred_at <= timedelta(minutes=PROMPT_MINUTES)


def _delay_minutes(exchanges: list[Exchange]) -> str:
    delays = [
        (e.received_at - e.occurred_at).total_seconds() / 60
        for e in exchanges
        if e.occurred_at is not None
    ]
    return f"median {median(delays):.0f} min" if delays else "none"


def level_one_checks(notices: list[Exchange]) -> list[Check]:
    """The checks of early arrest notices (level 1)."""
    incidents = Counter(n.incident_number for n in notices)
    repeated = sorted(incident for incident, count in incidents.items() if count > 1)
    return [
        Check(
            1,
            "Early arrest notices sent",
            f"At least {MIN_NOTICES} early arrest notices accepted in the window.",
            str(len(notices)),
            len(notices) >= MIN_NOTICES,
        ),
        _ratio_check(
            1,
            "Subject identified",
            "First and last name, date of birth and sex of the subject: at least 95%.",
            notices,
            _subject_complete,
            at_least=0.95,
        ),
        _ratio_check(
            1,
            "Identifier or address",
            "An SID, FBI number, driver's licence or address of the subject: at least 90%.",
            notices,
            _identified,
            at_least=0.90,
        ),
        _ratio_check(
            1,
            "Charges coded",
            "Every charge with its statute, description and severity: all notices.",
            notices,
            _charges_coded,
            at_least=1.0,
        ),
        _ratio_check(
            1,
            "Court known",
            "The court location is one the portal routes to, so clerks receive the notice: "
            "all notices.",
            notices,
            lambda e: e.status != ExchangeStatus.NO_RECIPIENTS,
            at_least=1.0,
        ),
        _ratio_check(
            1,
            "Arraignment date given",
            "The arraignment date: at least 95%.",
            notices,
            lambda e: bool(e.payload.get("arraignment_date")),
            at_least=0.95,
        ),
        Check(
            1,
            "Sent promptly",
            f"Received within {PROMPT_MINUTES} minutes of the arrest: at least 90% "
            f"({_delay_minutes(notices)}).",
            _percent(sum(_prompt(n) for n in notices), len(notices)),
            bool(notices) and _share(sum(_prompt(n) for n in notices), len(notices)) >= 0.90,
            [n.incident_number for n in notices if not _prompt(n)][:EXAMPLES],
        ),
        Check(
            1,
            "Each incident once",
            "No incident sent as two early arrest notices (a resend must reuse its "
            "Idempotency-Key).",
            f"{len(repeated)} incidents sent more than once",
            not repeated,
            repeated[:EXAMPLES],
        ),
    ]


def level_two_checks(
    packets: list[Exchange], notices: list[Exchange], searches: dict[str, int]
) -> list[Check]:
    """The checks of arrest packets and consumer searches (level 2)."""
    notice_person = {n.incident_number: n.person_id for n in notices}
    return [
        Check(
            2,
            "Arrest packets sent",
            f"At least {MIN_PACKETS} arrest packets accepted in the window.",
            str(len(packets)),
            len(packets) >= MIN_PACKETS,
        ),
        _ratio_check(
            2,
            "Arrest forms attached",
            "Each arrest packet with at least one PDF attachment (the arrest forms).",
            packets,
            lambda e: bool(getattr(e, "has_pdf", False)),
            at_least=1.0,
        ),
        _ratio_check(
            2,
            "Packet follows its notice",
            "Each arrest packet's incident had an early arrest notice first: at least 95%.",
            packets,
            lambda e: e.incident_number in notice_person,
            at_least=0.95,
        ),
        _ratio_check(
            2,
            "Same subject as the notice",
            "The packet's subject is the person its early arrest notice named: all packets "
            "that follow a notice.",
            [p for p in packets if p.incident_number in notice_person],
            lambda e: e.person_id == notice_person[e.incident_number],
            at_least=1.0,
        ),
        Check(
            2,
            "Consumer searches",
            "At least one person search and one vehicle search through the API "
            "(the consumer web service).",
            f"{searches['persons']} person, {searches['vehicles']} vehicle searches",
            searches["persons"] >= 1 and searches["vehicles"] >= 1,
        ),
    ]


def _submitted(
    client: ApiClient, kind: ExchangeType, start: datetime, end: datetime
) -> list[Exchange]:
    pdf = ExchangeAttachment.objects.filter(exchange=OuterRef("pk"), content_type="application/pdf")
    return list(
        Exchange.objects.filter(api_client=client, type=kind, received_at__range=(start, end))
        .annotate(has_pdf=Exists(pdf))
        .order_by("received_at")
    )


def _searches(client: ApiClient, start: datetime, end: datetime) -> dict[str, int]:
    counts = AuditEvent.objects.filter(
        api_client=client,
        occurred_at__range=(start, end),
        action__in=[PERSONS_SEARCHED, VEHICLES_SEARCHED],
    ).aggregate(
        persons=Count("pk", filter=Q(action=PERSONS_SEARCHED)),
        vehicles=Count("pk", filter=Q(action=VEHICLES_SEARCHED)),
    )
    return {"persons": counts["persons"], "vehicles": counts["vehicles"]}


def level_reached(checks: list[Check]) -> int:
    level = 0
    for candidate in (1, 2):
        if all(c.passed for c in checks if c.level <= candidate):
            level = candidate
        else:
            break
    return level


def certification_run(
    *,
    client: ApiClient,
    actor: User | None = None,
    window: timedelta = DEFAULT_WINDOW,
    command: str = "",
) -> CertificationReport:
    """Run every check over what ``client`` submitted in the last ``window``; keep and
    audit the report."""
    end = timezone.now()
    start = end - window
    notices = _submitted(client, ExchangeType.EARLY_ARREST_NOTICE, start, end)
    packets = _submitted(client, ExchangeType.ARREST_PACKET, start, end)
    checks = level_one_checks(notices) + level_two_checks(
        packets, notices, _searches(client, start, end)
    )
    with transaction.atomic():
        report = CertificationReport.objects.create(
            api_client=client,
            run_by=actor,
            window_start=start,
            window_end=end,
            level=level_reached(checks),
            checks=[asdict(check) for check in checks],
        )
        audit.record(
            "ciss.certification.run",
            actor=actor,
            agency=client.agency if actor is None else None,
            target=report,
            details={
                "client": str(client.public_id),
                "level": report.level,
                "failed": [c.name for c in checks if not c.passed],
                **({"command": command} if command else {}),
            },
        )
    return report
