"""Writing and checking the audit log.

``record`` appends one event to the hash chain inside the caller's transaction, so the
event and the change it records commit or roll back together. Details are scrubbed of
anything that looks like a secret before they are stored.
"""

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack

from django.db import connection, models, transaction
from django.http import HttpRequest

from portal.models.audit import (
    ACTION_LABELS as ACTION_LABELS,
)
from portal.models.audit import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    Outcome,
)
from portal.models.users import User
from portal.network import client_ip

if TYPE_CHECKING:
    from portal.models import Agency, ApiClient


def register_actions(labels: Mapping[str, str]) -> None:
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


_SECRET_KEY_PATTERN = re.compile(
    # "code" alone is the sign-in form's verification code field.
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|^key$|^code$|otp|totp|backup[_-]?code|"
    r"verification[_-]?code|authorization|cookie|session",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def scrub(value: Any) -> Any:
    """A JSON-safe copy of ``value`` with every secret-looking entry redacted."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _SECRET_KEY_PATTERN.search(str(key)) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value).replace("\x00", "")


class EventFields(TypedDict, total=False):
    """What an event records besides its action; every field optional."""

    actor: User | None
    request: HttpRequest | None
    agency: "Agency | None"
    api_client: "ApiClient | None"
    target: models.Model | None
    object_type: str
    object_id: str
    outcome: str
    details: Mapping[str, Any] | None
    username: str


class Entry(EventFields):
    """One event of :func:`record_many`: ``record``'s arguments, the action among them."""

    action: Required[str]


def record(action: str, **fields: Unpack[EventFields]) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction.

    ``actor`` defaults to the request's signed-in user and ``agency`` to the actor's or
    the API client's agency. ``target`` fills ``object_type``/``object_id`` from a model
    instance (its ``public_id`` when it has one, so no sequence number leaks).
    """
    event = _event(action, fields)
    # No savepoint inside the caller's transaction: a failure here fails the caller's
    # work too (nothing is kept unaudited), and a savepoint would cost two statements.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql" and _append_in_two_statements([event]):
            return event
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        _link(event, head)
        event.save(force_insert=True)
        head.save(update_fields=["seq", "hash"])
    return event


def record_many(entries: Sequence[Entry]) -> list[AuditEvent]:
    """Append several events, in order, in the caller's transaction. The events and the
    chain are those of one ``record`` each, written with one lock of the chain's head,
    one insert and one update of the head, where one ``record`` each takes two
    statements per event."""
    if len(entries) == 1:
        return [record(**entries[0])]
    events = [_event(entry["action"], entry) for entry in entries]
    if not events:
        return events
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql" and _append_in_two_statements(events):
            return events
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        for event in events:
            _link(event, head)
        AuditEvent.objects.bulk_create(events)
        head.save(update_fields=["seq", "hash"])
    return events


def _event(action: str, fields: EventFields) -> AuditEvent:
    actor = fields.get("actor")
    request = fields.get("request")
    api_client = fields.get("api_client")
    target = fields.get("target")
    object_type = fields.get("object_type", "")
    object_id = fields.get("object_id", "")
    if actor is None and request is not None and isinstance(request.user, User):
        actor = request.user
    # By id: the actor's agency is often not loaded, and the row needs only its key.
    agency = fields.get("agency")
    agency_id = agency.pk if agency is not None else None
    if agency_id is None:
        agency_id = actor.agency_id if actor is not None else None
        if agency_id is None and api_client is not None:
            agency_id = api_client.agency_id
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(getattr(target, "public_id", None) or target.pk)
    username = actor.get_username() if actor is not None else fields.get("username", "")
    return AuditEvent(
        actor=actor,
        actor_username=username[:150],
        agency_id=agency_id,
        api_client=api_client,
        action=action,
        outcome=fields.get("outcome", Outcome.SUCCESS),
        object_type=object_type,
        object_id=str(object_id)[:80],
        # Round-trip through JSON so the hashed content equals what reads back.
        details=json.loads(json.dumps(scrub(dict(fields.get("details") or {})))),
        ip=client_ip(request) if request is not None else "",
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:500],
    )


def _link(event: AuditEvent, head: AuditChainHead) -> None:
    """Chain ``event`` after ``head`` (locked by the caller) and move the head to it."""
    event.seq = head.seq + 1
    event.prev_hash = head.hash
    event.hash = event.compute_hash()
    event._chained = True
    head.seq = event.seq
    head.hash = event.hash


@functools.cache
def _append_statements() -> tuple[str, str]:
    """The two statements of :func:`_append_in_two_statements`, built from the models'
    own table and column names (no outside input reaches them): the head locked, then
    the events as one array per column, inserted in one go, and the head moved to the
    last of them."""
    quote = connection.ops.quote_name
    head_table = quote(AuditChainHead._meta.db_table)
    event_table = quote(AuditEvent._meta.db_table)
    columns = ", ".join(quote(str(_CONCRETE[name].column)) for name in _EVENT_FIELDS)
    arrays = ", ".join(f"%s::{_CONCRETE[name].db_type(connection)}[]" for name in _EVENT_FIELDS)
    lock_head = f"SELECT seq, hash FROM {head_table} WHERE id = 1 FOR UPDATE"  # noqa: S608
    append = (
        f"WITH event AS (INSERT INTO {event_table} ({columns}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) RETURNING id, seq) "
        f"UPDATE {head_table} SET seq = %s, hash = %s WHERE id = 1 "
        "RETURNING (SELECT array_agg(id ORDER BY seq) FROM event)"
    )
    return lock_head, append


_EVENT_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "actor_username",
    "agency",
    "api_client",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "details",
    "ip",
    "user_agent",
    "prev_hash",
    "hash",
)
_CONCRETE = {field.name: field for field in AuditEvent._meta.concrete_fields}
_EVENT_ATTNAMES = [(name, _CONCRETE[name].attname) for name in _EVENT_FIELDS]


def _append_in_two_statements(events: list[AuditEvent]) -> bool:
    """On PostgreSQL, every request that looks at a record appends an event, and every
    lot of arrest notices and every delivery appends several while the others wait for
    the chain's head: lock the head, then insert the events and move the head in one
    statement (a data-modifying WITH), where the ORM takes three and builds each row
    field by field. False, with nothing written, when the head does not exist yet (the
    ORM path creates it)."""
    lock_head, append = _append_statements()
    with connection.cursor() as cursor:
        cursor.execute(lock_head)
        row = cursor.fetchone()
        if row is None:
            return False
        seq, prev_hash = row
        for event in events:
            seq += 1
            event.seq, event.prev_hash = seq, prev_hash
            event.hash = prev_hash = event.compute_hash()
            event._chained = True
        columns = [
            [json.dumps(event.details) for event in events]
            if name == "details"
            else [getattr(event, attname) for event in events]
            for name, attname in _EVENT_ATTNAMES
        ]
        cursor.execute(append, [*columns, seq, prev_hash])
        (ids,) = cursor.fetchone()
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias
    return True


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _events_in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)


def verify_chain() -> VerifyResult:
    """Walk the chain from the first event and report the first row that breaks it."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _events_in_order():
        if event.seq != expected_seq:
            return VerifyResult(
                checked,
                ChainBreak(
                    expected_seq,
                    None,
                    f"event #{expected_seq} is missing (next present is #{event.seq})",
                ),
            )
        if event.prev_hash != expected_prev:
            return VerifyResult(
                checked,
                ChainBreak(event.seq, event.pk, "its link to the previous event does not match"),
            )
        if event.compute_hash() != event.hash:
            return VerifyResult(
                checked,
                ChainBreak(event.seq, event.pk, "its content was changed after it was written"),
            )
        checked += 1
        expected_prev = event.hash
        expected_seq += 1

    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != expected_prev):
        return VerifyResult(
            checked,
            ChainBreak(
                checked + 1,
                None,
                f"the log ends at #{checked} but #{head.seq} was written: events were removed",
            ),
        )
    return VerifyResult(checked, None)
