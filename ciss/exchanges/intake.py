"""Exchange intake: ``POST /api/v1/exchanges/`` in one transaction.

``exchange_submit`` checks the idempotency key, the sending agency and the payload, then
in one transaction stores the exchange, matches or creates the subject in the master name
index (the OBTS matcher, through ``persons_upsert``), records the arrest's case and
charges — or the infraction, or the court date of a schedule notification — so the
person's timeline shows them, routes it, writes one delivery row per recipient (the
outbox) and the audit row. Delivery is queued once the transaction commits; should the
broker be down, the periodic sweeper queues it later, so the answer never waits on it.

Idempotency (CONTRACT §3): per sending agency and key. The same key with the same body
(compared as parsed JSON, so spacing and key order do not matter) answers the first answer
again and creates nothing; with another body it is refused (409). Two requests racing with
one key meet at the unique constraint: the loser answers as a replay.
"""

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.dateparse import parse_datetime

from ciss.exchanges.batching import Batcher, batch_limit
from ciss.exchanges.routing import recipients_for, routing_book
from ciss.exchanges.schemas import validate_exchange
from ciss.models import Delivery, Exchange, ExchangeStatus, ExchangeType
from ciss.subscriptions import queue_exchange_alerts
from ciss.tasks import deliver_exchange, deliver_exchanges, send_alerts
from obts.models import Case, Person
from obts.services.feeds import FeedKind, feed_kind, feed_records_upsert
from obts.services.intake import APPLIED, Outcome, RecordResult, Submitter
from obts.services.persons import persons_upsert
from obts.services.status_refresh import persons_refresh
from portal import audit
from portal.bulk_insert import bulk_insert
from portal.models import ApiClient

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_MAX = 255
ARREST_TYPES = frozenset(
    {
        ExchangeType.EARLY_ARREST_NOTICE,
        ExchangeType.ARREST_PACKET,
        ExchangeType.MISDEMEANOR_SUMMONS,
    }
)
SEVERITY_CLASSES = {"felony": "felony", "misdemeanor": "misdemeanor"}


class ExchangeRefused(Exception):
    """The submission is refused as a whole; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.body = body


class MissingIdempotencyKey(ExchangeRefused):
    status = 400


class ForeignAgency(ExchangeRefused):
    status = 403


class IdempotencyConflict(ExchangeRefused):
    status = 409


class InvalidExchange(ExchangeRefused):
    status = 400


@dataclass(frozen=True)
class Submission:
    exchange: Exchange
    answer: dict[str, Any]
    replayed: bool


def body_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def exchange_submit(
    *, payload: Any, idempotency_key: str | None, api_client: ApiClient
) -> Submission:
    """Take one exchange from ``api_client``'s agency. Refuses (``ExchangeRefused``) a
    missing or overlong key, an ``agency_ori`` of another agency, a key already used for
    another body, and an invalid payload (field errors)."""
    key = (idempotency_key or "").strip()
    if not key:
        raise MissingIdempotencyKey(
            {"detail": "The Idempotency-Key header is required: a unique value per exchange."}
        )
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise MissingIdempotencyKey(
            {"detail": f"The Idempotency-Key header is at most {IDEMPOTENCY_KEY_MAX} characters."}
        )
    sender = api_client.agency
    ori = payload.get("agency_ori") if isinstance(payload, dict) else None
    if isinstance(ori, str) and ori.strip() and ori.strip().upper() != sender.ori:
        raise ForeignAgency(
            {
                "detail": f"agency_ori {ori.strip()} is not this client's agency "
                f"({sender.ori}): a client submits only for its own agency."
            }
        )
    digest = body_hash(payload)
    errors = validate_exchange(payload)
    if errors:
        # A key already used answers as it did (its replay, or 409), whatever the schema
        # now says of the body.
        replay = _replay(sender.pk, key, digest)
        if replay is not None:
            return replay
        raise InvalidExchange(errors)
    # Inside a caller's transaction the notice is accepted alone, in that transaction:
    # a lot is accepted on the leading request's connection, outside that transaction.
    # A lot looks its keys up together (_accept_together), so a request in a lot makes
    # no look-up of its own.
    if payload["type"] in ARREST_TYPES and batch_limit() > 1 and not connection.in_atomic_block:
        submission: Submission = _batcher.submit(
            payload, key=key, digest=digest, api_client=api_client
        )
        return submission
    return _accept_alone(payload, key, digest, api_client)


def _accept_alone(
    payload: dict[str, Any], key: str, digest: str, api_client: ApiClient
) -> Submission:
    """One valid exchange in its own transaction: the first answer again when its key was
    used for this body (409 for another), otherwise accepted."""
    replay = _replay(api_client.agency_id, key, digest)
    if replay is not None:
        return replay
    try:
        with transaction.atomic():
            return _accept(payload, key=key, digest=digest, api_client=api_client)
    except IntegrityError:
        replay = _replay(api_client.agency_id, key, digest)
        if replay is None:
            raise
        return replay


def _replay(sender_id: int, key: str, digest: str) -> Submission | None:
    stored = (
        Exchange.objects.filter(sender_agency_id=sender_id, idempotency_key=key)
        .only("pk", "public_id", "body_hash", "answer")
        .first()
    )
    if stored is None:
        return None
    if stored.body_hash != digest:
        raise IdempotencyConflict(
            {
                "detail": "This Idempotency-Key was already used for a different exchange "
                f"({stored.public_id}). Use a new key for a new exchange.",
                "id": str(stored.public_id),
            }
        )
    return _replayed(stored)


def _replayed(stored: Exchange) -> Submission:
    return Submission(exchange=stored, answer=stored.answer, replayed=True)


def _accept(payload: dict[str, Any], *, key: str, digest: str, api_client: ApiClient) -> Submission:
    kind = ExchangeType(payload["type"])
    # Stored once everything about it is known (one INSERT, no UPDATE after): a request
    # racing with the same key then fails on the key's unique constraint at that INSERT,
    # and all it wrote is rolled back with it (exchange_submit answers it as a replay).
    exchange = _new_exchange(payload, key=key, digest=digest, api_client=api_client)
    submitter = _submitter(api_client)
    arresting_ori = api_client.agency.ori
    written: list[dict[str, Any]] = []
    if kind == ExchangeType.COURT_SCHEDULE_NOTIFICATION:
        arresting_ori = _apply_schedule(exchange, payload)
    else:
        person = exchange.person = _subject_person(
            exchange, payload.get("subject") or {}, submitter, written
        )
        occurred = _occurred(exchange)
        if kind == ExchangeType.INFRACTION:
            recorded = _record_infractions(
                exchange, payload, person=person, occurred=occurred, submitter=submitter
            )
            written += recorded
            applied = any(entry["result"] in APPLIED for entry in recorded)
        else:
            exchange.case, applied = _record_case(
                exchange, payload, person=person, occurred=occurred, submitter=submitter
            )
            written.append(_written("cases", exchange.case.public_id, "recorded"))
        # The person's status and flags, once, after everything about them is written: a
        # feed upsert that applied refreshed them already, one that changed nothing did not.
        if not applied:
            persons_refresh([person.pk])
    [submission] = _route_and_store([(exchange, arresting_ori, written)], api_client)
    return submission


def accept_arrests(
    items: list[tuple[dict[str, Any], str, str]], api_client: ApiClient
) -> list[Submission]:
    """Accept several arrest notices, packets and summonses of one client together, in the
    caller's transaction: the subjects in one ``persons_upsert``, the cases in one
    ``feed_records_upsert``, the exchanges and deliveries one statement each; what one at
    a time would write, in the same order. ``items`` are (payload, key, digest), of
    distinct keys and incident numbers, each already checked as ``exchange_submit``
    does. Raises ``InvalidExchange`` (the caller rolls back and takes them one at a
    time, so that each gets its own answer) when a record of any of them is refused."""
    exchanges = [
        _new_exchange(payload, key=key, digest=digest, api_client=api_client)
        for payload, key, digest in items
    ]
    # A refused write refuses the lot: the caller rolls it back and takes each notice on
    # its own path, where the refusal becomes that notice's answer.
    submitter = replace(_submitter(api_client), all_or_nothing=True)
    subjects = persons_upsert(
        [
            _subject_record(exchange, payload.get("subject") or {})
            for exchange, (payload, _, _) in zip(exchanges, items, strict=True)
        ],
        submitter=submitter,
        refresh=False,
    )
    for result in subjects:
        _raise_for("subject", result)
    cases = feed_records_upsert(
        _feed("cases"),
        [
            _case_record(exchange, payload, person=result.instance, occurred=_occurred(exchange))
            for exchange, (payload, _, _), result in zip(exchanges, items, subjects, strict=True)
        ],
        submitter=submitter,
    )
    for result in cases:
        _raise_for("", result)
    unchanged = {
        subject.instance.pk
        for subject, case in zip(subjects, cases, strict=True)
        if not case.applied
    }
    if unchanged:
        persons_refresh(unchanged)
    stored = []
    for exchange, subject, case in zip(exchanges, subjects, cases, strict=True):
        exchange.person, exchange.case = subject.instance, case.instance
        written = [
            _person_written(subject),
            _written("cases", exchange.case.public_id, "recorded"),
        ]
        stored.append((exchange, api_client.agency.ori, written))
    return _route_and_store(stored, api_client)


def _new_exchange(
    payload: dict[str, Any], *, key: str, digest: str, api_client: ApiClient
) -> Exchange:
    subject = payload.get("subject") or {}
    court_date = payload.get("court_date") or payload.get("arraignment_date")
    return Exchange(
        type=ExchangeType(payload["type"]),
        sender_agency=api_client.agency,
        api_client=api_client,
        idempotency_key=key,
        body_hash=digest,
        payload=payload,
        incident_number=payload.get("incident_number", ""),
        docket_number=payload.get("docket_number", ""),
        occurred_at=_moment(payload.get("occurred_at")),
        court_code=(payload.get("court") or {}).get("code", "").upper(),
        court_date=court_date or None,
        subject_name=_subject_name(subject),
    )


def _submitter(api_client: ApiClient) -> Submitter:
    # The exchange's audit row names the person and the records it wrote, and its own
    # alert (queue_exchange_alerts) tells the followers of its person and case.
    return Submitter(api_client=api_client, audited_by_caller=True, announced_by_caller=True)


def _occurred(exchange: Exchange) -> datetime:
    if exchange.occurred_at is None:  # the schema requires it for every type but schedules
        raise InvalidExchange({"occurred_at": ["This field is required."]})
    return exchange.occurred_at


def _route_and_store(
    stored: list[tuple[Exchange, str, list[dict[str, Any]]]], api_client: ApiClient
) -> list[Submission]:
    """Route each exchange, then store the exchanges, one delivery row per recipient (the
    outbox) and one audit row each; delivery and alerts are queued once it commits."""
    routed = []
    book = routing_book()
    for exchange, arresting_ori, _ in stored:
        recipients = recipients_for(exchange, arresting_ori=arresting_ori, book=book)
        if not recipients:
            exchange.status = ExchangeStatus.NO_RECIPIENTS
        exchange.answer = {
            "id": str(exchange.public_id),
            "status": str(exchange.status),
            "person_id": str(exchange.person.public_id) if exchange.person else None,
            "deliveries": [
                {"recipient_agency": recipient.agency.ori, "status": "pending"}
                for recipient in recipients
            ],
        }
        routed.append(recipients)
    exchanges = bulk_insert([exchange for exchange, _, _ in stored])
    # By ids: assigning the related objects checks and caches each of them, row by row.
    bulk_insert(
        [
            Delivery(
                exchange_id=exchange.pk,
                recipient_id=recipient.user.pk,
                agency_id=recipient.agency.pk,
                rule_id=recipient.rule.pk,
                created_at=exchange.received_at,
            )
            for exchange, recipients in zip(exchanges, routed, strict=True)
            for recipient in recipients
        ]
    )
    audit.record_many(
        [
            {
                "action": "ciss.exchange.received",
                "api_client": api_client,
                "target": exchange,
                "details": {
                    "type": str(exchange.type),
                    "incident_number": exchange.incident_number,
                    "docket_number": exchange.docket_number,
                    "person": exchange.answer["person_id"],
                    "case": str(exchange.case.public_id) if exchange.case else None,
                    "records": written,
                    "recipients": len(recipients),
                },
            }
            for (exchange, _, written), recipients in zip(stored, routed, strict=True)
        ]
    )
    delivering = [
        exchange.pk for exchange, recipients in zip(exchanges, routed, strict=True) if recipients
    ]
    silent = [
        exchange.pk
        for exchange, recipients in zip(exchanges, routed, strict=True)
        if not recipients
    ]
    if delivering:
        # One task delivers, then alerts the followers: a second task per exchange would
        # cost a broker round trip here and a task's overhead in the worker.
        if len(delivering) == 1:
            transaction.on_commit(lambda: queue_delivery(delivering[0], alert_followers=True))
        else:
            transaction.on_commit(lambda: queue_deliveries(delivering, alert_followers=True))
    for exchange_id in silent:
        transaction.on_commit(functools.partial(queue_exchange_alerts, exchange_id))
    return [
        Submission(exchange=exchange, answer=exchange.answer, replayed=False)
        for exchange in exchanges
    ]


def _accept_together(
    items: list[tuple[dict[str, Any], str, str]], api_client: ApiClient
) -> list[Submission | None]:
    """A lot for the batcher: the keys looked up together (a request in a lot makes no
    look-up of its own), those already taken for the same body answered as replays (a
    repeated request, or a notice accepted while it waited), then the others accepted
    together. None for a request to take its own path (its key names another body: its
    own path answers 409)."""
    taken = {
        stored.idempotency_key: stored
        for stored in Exchange.objects.filter(
            sender_agency_id=api_client.agency_id, idempotency_key__in=[key for _, key, _ in items]
        ).only("pk", "public_id", "idempotency_key", "body_hash", "answer")
    }
    answers: dict[int, Submission | None] = {}
    for index, (_, key, digest) in enumerate(items):
        stored = taken.get(key)
        if stored is not None:
            same = stored.body_hash == digest
            answers[index] = _replayed(stored) if same else None
    fresh = [item for index, item in enumerate(items) if index not in answers]
    accepted: list[Submission] = []
    if fresh:
        with transaction.atomic():
            accepted = accept_arrests(fresh, api_client)
    in_order = iter(accepted)
    return [answers[index] if index in answers else next(in_order) for index in range(len(items))]


_batcher = Batcher(_accept_together, _accept_alone, batch_limit)


def queue_delivery(exchange_id: int, *, alert_followers: bool = False) -> bool:
    """Queue the delivery task (which then alerts the exchange's followers, when asked);
    False (and a log line) when the broker cannot take it — the deliveries stay pending
    and the sweeper queues them once it can."""
    return _queued(
        lambda: deliver_exchange.delay(exchange_id, alert_followers=alert_followers),
        f"exchange {exchange_id}",
    )


def queue_deliveries(exchange_ids: list[int], *, alert_followers: bool = False) -> bool:
    """Queue one task that delivers several exchanges (accepted together), each as
    ``deliver_exchange`` would; on failure, as ``queue_delivery``."""
    return _queued(
        lambda: deliver_exchanges.delay(exchange_ids, alert_followers=alert_followers),
        f"exchanges {exchange_ids}",
    )


def _queued(send: Callable[[], Any], what: str) -> bool:
    try:
        send()
    except Exception:  # the broker's errors vary by transport; none may fail the request
        logger.warning("%s: delivery not queued, left to the sweeper", what, exc_info=True)
        return False
    return True


def queue_alert(delivery_id: int) -> bool:
    """Queue the e-mail alert of one delivery; False (with the reason kept on the delivery
    so it is listed again) when the broker cannot take it."""
    try:
        send_alerts.delay([delivery_id])
    except Exception:  # the broker's errors vary by transport; none may fail the request
        logger.warning("delivery %s: alert not queued", delivery_id, exc_info=True)
        Delivery.objects.filter(pk=delivery_id, alerted_at__isnull=True).update(
            alert_error="The alert could not be queued: the task queue did not answer."
        )
        return False
    return True


def _moment(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _subject_name(subject: dict[str, Any]) -> str:
    given = " ".join(
        part for part in (subject.get("first_name"), subject.get("middle_name")) if part
    )
    last = subject.get("last_name", "")
    name = f"{last}, {given}" if given else last
    return name[:200]


def _source(exchange: Exchange) -> str:
    return f"RMS {exchange.sender_agency.ori}"


def _written(kind: str, public_id: Any, result: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "id": str(public_id), "result": result, **more}


def _subject_person(
    exchange: Exchange, subject: dict[str, Any], submitter: Submitter, written: list[dict[str, Any]]
) -> Person:
    """The subject in the master name index: the same person when an identifier or the
    matcher finds them, a new one otherwise (a weak match opens a duplicate review)."""
    # The status refresh waits for the case or infractions recorded next (_accept).
    [result] = persons_upsert(
        [_subject_record(exchange, subject)], submitter=submitter, refresh=False
    )
    _raise_for("subject", result)
    written.append(_person_written(result))
    person: Person = result.instance
    return person


def _subject_record(exchange: Exchange, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "source_system": _source(exchange),
        "source_id": f"{exchange.incident_number}/subject",
        "as_of": exchange.received_at.isoformat(),
        **{
            name: subject.get(name, "")
            for name in (
                "first_name",
                "middle_name",
                "last_name",
                "suffix",
                "sex",
                "race",
                "sid",
                "fbi_number",
                "dl_number",
                "dl_state",
            )
        },
        "dob": subject.get("dob") or None,
        "addresses": [subject["address"]] if (subject.get("address") or {}).get("line1") else [],
    }


def _person_written(result: RecordResult) -> dict[str, Any]:
    match = result.details.get("match")
    return _written(
        "person",
        result.instance.public_id,
        str(result.outcome),
        **({"match": match} if match else {}),
    )


def _charge_class(charge: dict[str, Any]) -> str:
    severity = str(charge.get("severity", ""))
    if severity in SEVERITY_CLASSES:
        return f"{severity}_{(charge.get('class') or 'U').lower()}"
    return severity


def _feed(name: str) -> FeedKind:
    kind = feed_kind(name)
    if kind is None:
        raise LookupError(f"The {name} feed kind is not registered.")
    return kind


def _record_case(
    exchange: Exchange,
    payload: dict[str, Any],
    *,
    person: Person,
    occurred: datetime,
    submitter: Submitter,
) -> tuple[Case, bool]:
    """The arrest's case and charges; and whether the upsert wrote (and so refreshed the
    person's status)."""
    record = _case_record(exchange, payload, person=person, occurred=occurred)
    [result] = feed_records_upsert(_feed("cases"), [record], submitter=submitter)
    _raise_for("", result)
    case: Case = result.instance
    return case, result.applied


def _case_record(
    exchange: Exchange, payload: dict[str, Any], *, person: Person, occurred: datetime
) -> dict[str, Any]:
    return {
        "source_system": _source(exchange),
        "source_id": exchange.incident_number,
        "as_of": exchange.received_at.isoformat(),
        "person": {"id": str(person.public_id)},
        "incident_number": exchange.incident_number,
        "court_code": exchange.court_code,
        "arresting_agency_ori": exchange.sender_agency.ori,
        "arrest_date": occurred.date().isoformat(),
        "arraignment_date": payload.get("arraignment_date"),
        "charges": [
            {
                "sequence": number,
                "statute": charge["statute"],
                "description": charge.get("description", ""),
                "charge_class": _charge_class(charge),
                "counts": charge.get("counts", 1),
            }
            for number, charge in enumerate(payload["charges"], start=1)
        ],
    }


def _record_infractions(
    exchange: Exchange,
    payload: dict[str, Any],
    *,
    person: Person,
    occurred: datetime,
    submitter: Submitter,
) -> list[dict[str, Any]]:
    records = [
        {
            "source_system": _source(exchange),
            "source_id": f"{exchange.incident_number}/{number}",
            "as_of": exchange.received_at.isoformat(),
            "person": {"id": str(person.public_id)},
            "ticket_number": exchange.incident_number,
            "offense_date": occurred.date().isoformat(),
            "statute": charge["statute"],
            "description": charge.get("description", ""),
            "amount": str(Decimal(str(charge["fine_amount"]))) if "fine_amount" in charge else None,
            "status": "open",
        }
        for number, charge in enumerate(payload["charges"], start=1)
    ]
    results = feed_records_upsert(_feed("infractions"), records, submitter=submitter)
    for result in results:
        _raise_for(f"charges.{result.index}", result)
    return [_written("infractions", r.public_id(), str(r.outcome)) for r in results]


def _apply_schedule(exchange: Exchange, payload: dict[str, Any]) -> str:
    """Set the court date (and the docket, once assigned) on the case the notification
    names; the arresting agency's ORI, for routing. A notification about a case the
    portal does not hold is still delivered: the arresting agency is then the one the
    notification names."""
    case = _scheduled_case(payload)
    named_ori = str(payload.get("arresting_agency_ori", ""))
    if case is None:
        return named_ori
    hearing = (payload.get("hearing") or "").strip().lower()
    court_date = payload["court_date"]
    changed = {"next_court_date": court_date}
    if hearing == "arraignment":
        changed["arraignment_date"] = court_date
    if payload.get("docket_number") and not case.docket_number:
        changed["docket_number"] = payload["docket_number"]
    if exchange.court_code and not case.court_code:
        changed["court_code"] = exchange.court_code
    Case.objects.filter(pk=case.pk).update(**changed)
    exchange.case = case
    exchange.person = case.person
    persons_refresh([case.person_id])
    return case.arresting_agency_ori or named_ori


def _scheduled_case(payload: dict[str, Any]) -> Case | None:
    cases = Case.objects.select_related("person").select_for_update(of=("self",))
    if payload.get("docket_number"):
        case = cases.filter(docket_number=payload["docket_number"]).first()
        if case is not None:
            return case
    if payload.get("incident_number"):
        by_incident = cases.filter(incident_number=payload["incident_number"])
        if payload.get("arresting_agency_ori"):
            by_incident = by_incident.filter(arresting_agency_ori=payload["arresting_agency_ori"])
        return by_incident.order_by("-received_at").first()
    return None


def _raise_for(prefix: str, result: RecordResult) -> None:
    if result.outcome != Outcome.ERROR:
        return
    errors = {
        (f"{prefix}.{field}" if prefix else field): messages
        for field, messages in result.errors.items()
    }
    raise InvalidExchange(errors)
