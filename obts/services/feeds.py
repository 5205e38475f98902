"""Record feeds from source systems: a registry of record kinds, and the one upsert engine
they all go through.

A kind (``cases``, ``warrants``...) is a ``FeedKind`` subclass: its model, the serializer
that validates one record, and hooks for what is particular to it (nested charges,
references to other records). The OBTS kinds register in ``obts.apps``; another app
registers its own the same way from its ``AppConfig.ready()`` (``register_feed_kind``), so
obts never imports it.

The engine, for one record or a batch of up to ``BATCH_LIMIT``, in one transaction:

- validates each record on its own (field errors, never an exception for bad input);
- resolves the persons the whole batch names in a few queries (``PersonDirectory``), and
  loads (and locks) the stored records it names in one;
- decides each record by ``(source_system, source_id)``: one older (by ``as_of``) than
  the stored one is not applied (``stale``); one equal to what is stored is ``unchanged``
  and writes nothing (a newer ``as_of`` is remembered, so a later out-of-order delivery
  is still recognised as stale); the others are written;
- writes them together in one savepoint (the new ones in one insert). Should the database
  refuse any of them, that savepoint is rolled back and each is written again in its own,
  so a record the database refuses never takes the others with it. Records sharing a key
  within the batch, and kinds that say so (``bulk_writes``), are written one by one;
- then, once for all persons touched: the kind's follow-up (sentence dates), and the
  persons' status and flags;
- last, one audit row per request (so the audit chain's lock is held only at the end of
  the transaction, and appended to once): ``obts.record.upserted`` naming the record when
  one was applied, ``obts.records.upserted`` listing them when several were. No-ops
  (unchanged, stale) and rejected records write none: nothing changed.

Once the transaction commits, the listeners of ``obts.services.changes`` hear of the
applied records (``records_changed``).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils import timezone
from rest_framework import serializers

from obts.models import Person
from obts.services.changes import records_changed
from obts.services.directory import PersonDirectory
from obts.services.fields import PersonRef
from obts.services.intake import (
    Outcome,
    RecordResult,
    Submitter,
    check_batch_size,
    error_result,
    record_validator,
    source_keys_condition,
    stale_reason,
)
from obts.services.plain_validation import plain_validator
from obts.services.status_refresh import persons_refresh
from portal import audit
from portal.bulk_insert import bulk_insert
from portal.collector import collector_paused

PROVENANCE_FIELDS = frozenset({"id", "source_system", "source_id", "as_of", "received_at"})
RecordKey = tuple[str, str]


class IntakeContext:
    """What the hooks of a kind may consult while a batch is upserted."""

    def __init__(self, persons: PersonDirectory, stored: dict[RecordKey, Any]) -> None:
        self.persons = persons
        # The batch's records as stored so far, by (source_system, source_id).
        self.stored = stored
        # Anything a kind's prepare() resolved in bulk for its values().
        self.extra: dict[str, Any] = {}


class FeedKind:
    """One kind of record that source systems feed. Subclass, set the class attributes,
    override the hooks that differ, and register an instance with ``register_feed_kind``.

    The model must carry the provenance fields of ``obts.models.base.SourceRecord``
    (``public_id``, ``source_system``, ``source_id``, ``as_of``, ``received_at``) with
    ``(source_system, source_id)`` unique. The serializer validates one record (its
    ``Meta.fields`` name the stored fields) and renders a stored one.
    """

    name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    serializer_class: ClassVar[type[serializers.Serializer[Any]]]
    summary: ClassVar[str] = ""
    # Relations to load with the stored records (for is_same and write).
    prefetch: ClassVar[tuple[str, ...]] = ()
    # Fields handled by hooks rather than copied as they are.
    special_fields: ClassVar[frozenset[str]] = frozenset({"person"})
    # Whether records of distinct keys may be written together (write_many); a kind whose
    # records refer to others of the same batch writes them one by one instead.
    bulk_writes: ClassVar[bool] = True

    # Hooks ---------------------------------------------------------------------------

    def person_refs(self, data: dict[str, Any]) -> list[tuple[str, PersonRef]]:
        """The persons a validated record names, each with the field to blame if unknown."""
        ref = data.get("person")
        return [("person", ref)] if isinstance(ref, PersonRef) else []

    def prepare(self, records: Sequence[dict[str, Any]], context: IntakeContext) -> None:
        """Resolve in bulk whatever else the batch refers to (default: nothing)."""

    def values(self, data: dict[str, Any], context: IntakeContext) -> dict[str, Any]:
        """The stored form of a validated record: every content field (a field left out
        of the record takes its default: a record is the source's whole current view),
        with references resolved. Raises ``serializers.ValidationError`` for a reference
        that does not resolve."""
        values = {
            name: data[name] if name in data else field.get_default()
            for name, field in self.content_fields()
        }
        for field, ref in self.person_refs(data)[:1]:
            values["person_id"] = context.persons.require(ref, field).pk
        return values

    def is_same(self, instance: Any, values: dict[str, Any]) -> bool:
        return all(getattr(instance, name) == value for name, value in values.items())

    def write(self, instance: Any, values: dict[str, Any], provenance: dict[str, Any]) -> Any:
        """Create (``instance`` None) or update one record's own row; return it. Kinds
        with more than a row to write (a case's charges) override ``write_many``."""
        if instance is None:
            instance = self.model(**provenance, **values)
            instance.save(force_insert=True)
            return instance
        _assign(instance, values, provenance)
        instance.save(update_fields=[*provenance, *values])
        return instance

    def write_many(self, writes: "list[Write]") -> list[Any]:
        """Write several records of distinct keys together: the new ones in one insert,
        the others in one update on PostgreSQL (:func:`update_rows`), one each elsewhere.
        Returns the records, in the order of ``writes``. A database error rolls all of
        them back (the caller then writes them one by one)."""
        created = [
            self.model(**write.provenance, **write.values)
            for write in writes
            if write.instance is None
        ]
        bulk_insert(created)
        changed = [write for write in writes if write.instance is not None]
        names = [[*write.provenance, *write.values] for write in changed]
        if len(changed) > 1 and connection.vendor == "postgresql" and _all_same(names):
            for write in changed:
                _assign(write.instance, write.values, write.provenance)
            update_rows(self.model, [write.instance for write in changed], names[0])
            updated = iter(write.instance for write in changed)
        else:
            updated = iter(
                self.write(write.instance, write.values, write.provenance) for write in changed
            )
        new = iter(created)
        return [next(new) if write.instance is None else next(updated) for write in writes]

    def persons_of(self, instance: Any) -> set[int]:
        """The persons whose status depends on this record."""
        person_id = getattr(instance, "person_id", None)
        return {person_id} if person_id else set()

    def after_change(self, persons: list[Person]) -> None:
        """Follow-up once per person after the batch's changes, before status."""

    def audit_details(self, instance: Any) -> dict[str, Any]:
        return {}

    # Derived -------------------------------------------------------------------------

    def content_fields(self) -> list[tuple[str, models.Field[Any, Any]]]:
        """The model fields a record sends as they are stored, by name."""
        cached: list[tuple[str, models.Field[Any, Any]]] | None = self.__dict__.get(
            "_content_fields"
        )
        if cached is None:
            fields = self.serializer_class().fields
            cached = []
            for name, serializer_field in fields.items():
                if name in PROVENANCE_FIELDS or name in self.special_fields:
                    continue
                if serializer_field.read_only:  # computed here, not sent
                    continue
                field = self.model._meta.get_field(name)
                if isinstance(field, models.Field) and field.concrete and not field.is_relation:
                    cached.append((name, field))
            self.__dict__["_content_fields"] = cached
        return cached

    def stored_records(self, keys: Iterable[RecordKey]) -> dict[RecordKey, Any]:
        """The stored records with these keys, locked for the transaction."""
        keys = set(keys)
        if not keys:
            return {}
        queryset = (
            self.model._default_manager.select_for_update(of=("self",))
            .filter(source_keys_condition(self.model, keys))
            .order_by("pk")
        )
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        records: list[Any] = list(queryset)
        return {(record.source_system, record.source_id): record for record in records}

    def render(self, instance: Any) -> dict[str, Any]:
        """The stored record as the API shows it, read again: follow-ups (sentence dates)
        may have changed it after it was written."""
        fresh = self.model._default_manager.prefetch_related(*self.prefetch).get(pk=instance.pk)
        return dict(self.serializer_class(fresh).data)


# The registry -------------------------------------------------------------------------

_KINDS: dict[str, FeedKind] = {}


def register_feed_kind(kind: FeedKind) -> None:
    """Make ``POST /api/v1/feeds/{kind.name}/`` and ``import_feed {kind.name}`` accept
    this kind. Registering the same name again replaces the earlier registration."""
    _KINDS[kind.name] = kind


def feed_kind(name: str) -> FeedKind | None:
    return _KINDS.get(name)


def feed_kind_names() -> list[str]:
    return sorted(_KINDS)


# The engine ---------------------------------------------------------------------------


def feed_records_upsert(
    kind: FeedKind, records: Sequence[Any], *, submitter: Submitter
) -> list[RecordResult]:
    """Upsert ``records`` (parsed JSON, one per element) of ``kind``; one result per record,
    in order. Refuses more than ``BATCH_LIMIT`` records (``BatchTooLarge``). Bad records
    are results with errors, never exceptions."""
    check_batch_size(list(records))
    with collector_paused():
        return _feed_records_upsert(kind, records, submitter)


def _feed_records_upsert(
    kind: FeedKind, records: Sequence[Any], submitter: Submitter
) -> list[RecordResult]:
    results: list[RecordResult | None] = [None] * len(records)
    valid: list[tuple[int, dict[str, Any]]] = []
    serializer = record_validator(kind.serializer_class)
    plain = plain_validator(kind.serializer_class)
    for index, raw in enumerate(records):
        if not isinstance(raw, dict):
            results[index] = error_result(
                index, {"non_field_errors": ["Each record must be a JSON object."]}
            )
            continue
        try:
            valid.append((index, (plain(raw) if plain else None) or serializer.run_validation(raw)))
        except serializers.ValidationError as error:
            results[index] = error_result(index, error)

    if valid:
        # Records that the database refuses are undone in their own savepoints; the batch
        # as a whole needs none of its own when the caller's transaction holds it.
        with transaction.atomic(savepoint=False):
            for result in _upsert_valid(kind, valid, submitter):
                results[result.index] = result
    return [result for result in results if result is not None]


@dataclass
class Write:
    """A record decided to be written: created (``instance`` None) or updated."""

    index: int
    key: RecordKey
    instance: Any
    values: dict[str, Any]
    provenance: dict[str, Any]
    data: dict[str, Any]
    # The persons the stored record named before this write.
    before: set[int]


def _upsert_valid(
    kind: FeedKind, valid: list[tuple[int, dict[str, Any]]], submitter: Submitter
) -> list[RecordResult]:
    persons = PersonDirectory.resolve(ref for _, data in valid for _, ref in kind.person_refs(data))
    keys = Counter((data["source_system"], data["source_id"]) for _, data in valid)
    stored = kind.stored_records(keys)
    context = IntakeContext(persons, stored)
    kind.prepare([data for _, data in valid], context)
    now = timezone.now()

    results: dict[int, RecordResult] = {}
    writes: list[Write] = []
    one_by_one: list[tuple[int, dict[str, Any]]] = []
    for index, data in valid:
        key = (data["source_system"], data["source_id"])
        if not kind.bulk_writes or keys[key] > 1:
            # Later records of the same key must see the earlier ones written.
            one_by_one.append((index, data))
            continue
        decided = _decide(kind, index, data, context, now)
        if isinstance(decided, Write):
            writes.append(decided)
        else:
            results[index] = decided

    if writes:
        try:
            with transaction.atomic(savepoint=not submitter.all_or_nothing):
                written = kind.write_many(writes)
        except DatabaseError:
            if submitter.all_or_nothing:  # the caller's transaction is rolled back whole
                raise
            # Something in the lot was refused: the savepoint rolled it all back, and the
            # in-memory copies may hold refused values. Redo them one by one.
            for write in writes:
                stored.pop(write.key, None)
            stored.update(kind.stored_records(write.key for write in writes))
            one_by_one += [(write.index, write.data) for write in writes]
        else:
            for write, instance in zip(writes, written, strict=True):
                results[write.index] = _written(kind, write, instance, context)

    for index, data in sorted(one_by_one, key=lambda item: item[0]):
        results[index] = _upsert_one(kind, index, data, context, now)

    ordered = [results[index] for index, _ in valid]
    touched: set[int] = set()
    for result in ordered:
        if result.applied:
            touched |= result.details.pop("persons", set())
    if touched:
        persons_refresh(touched, before=kind.after_change)
    _audit(kind, ordered, submitter)
    if not submitter.announced_by_caller:
        applied = [result.instance for result in ordered if result.applied]
        records_changed(kind.name, touched, applied)
    return ordered


def _decide(
    kind: FeedKind, index: int, data: dict[str, Any], context: IntakeContext, now: datetime
) -> RecordResult | Write:
    """What to do with one record: an error, stale or unchanged result, or a write."""
    key: RecordKey = (data["source_system"], data["source_id"])
    as_of: datetime = data.get("as_of") or now
    try:
        values = kind.values(data, context)
    except serializers.ValidationError as error:
        return _keyed(error_result(index, error), key)

    instance = context.stored.get(key)
    if instance is not None and as_of < instance.as_of:
        reason = stale_reason(as_of, instance.as_of)
        return _keyed(RecordResult(index, Outcome.STALE, instance, reason=reason), key)
    if instance is not None and kind.is_same(instance, values):
        if as_of > instance.as_of:
            kind.model._default_manager.filter(pk=instance.pk).update(as_of=as_of)
            instance.as_of = as_of
        return _keyed(RecordResult(index, Outcome.UNCHANGED, instance), key)
    provenance = {"source_system": key[0], "source_id": key[1], "as_of": as_of, "received_at": now}
    before = kind.persons_of(instance) if instance is not None else set()
    return Write(index, key, instance, values, provenance, data, before)


def _upsert_one(
    kind: FeedKind, index: int, data: dict[str, Any], context: IntakeContext, now: datetime
) -> RecordResult:
    """One record in its own savepoint."""
    decided = _decide(kind, index, data, context, now)
    if isinstance(decided, RecordResult):
        return decided
    key = decided.key
    try:
        with transaction.atomic():
            (written,) = kind.write_many([decided])
    except IntegrityError:
        # Another request created the same record since this batch looked: apply this
        # one as an update of it (still newer-wins).
        context.stored.update(kind.stored_records([key]))
        if decided.instance is not None or key not in context.stored:
            return _refused(kind, index, key, context)
        return _upsert_one(kind, index, data, context, now)
    except DatabaseError:
        return _refused(kind, index, key, context)
    return _written(kind, decided, written, context)


def _written(kind: FeedKind, write: Write, instance: Any, context: IntakeContext) -> RecordResult:
    context.stored[write.key] = instance
    outcome = Outcome.CREATED if write.instance is None else Outcome.UPDATED
    persons = write.before | kind.persons_of(instance)
    result = RecordResult(write.index, outcome, instance, details={"persons": persons})
    return _keyed(result, write.key)


def _keyed(result: RecordResult, key: RecordKey) -> RecordResult:
    result.key = key
    return result


def _refused(kind: FeedKind, index: int, key: RecordKey, context: IntakeContext) -> RecordResult:
    # The savepoint rolled back; the in-memory copy may hold the refused values.
    context.stored.pop(key, None)
    context.stored.update(kind.stored_records([key]))
    message = "The database refused this record; nothing of it was stored."
    return _keyed(error_result(index, {"non_field_errors": [message]}), key)


def _audit(kind: FeedKind, results: list[RecordResult], submitter: Submitter) -> None:
    """One audit row per request, written last: naming the record when one was applied,
    listing them all when several were (one chained append per batch, not per record)."""
    applied = [result for result in results if result.applied]
    if not applied or submitter.audited_by_caller:
        return
    common = {"kind": kind.name, **submitter.audit_details()}
    if len(applied) == 1:
        (result,) = applied
        audit.record(
            "obts.record.upserted",
            api_client=submitter.api_client,
            target=result.instance,
            details={
                **common,
                "source_system": result.key[0],
                "source_id": result.key[1],
                "result": str(result.outcome),
                **kind.audit_details(result.instance),
            },
        )
        return
    audit.record(
        "obts.records.upserted",
        api_client=submitter.api_client,
        object_type=kind.model._meta.label_lower,
        details={
            **common,
            "created": sum(result.outcome == Outcome.CREATED for result in applied),
            "updated": sum(result.outcome == Outcome.UPDATED for result in applied),
            "records": [
                {
                    "id": result.public_id(),
                    "source_system": result.key[0],
                    "source_id": result.key[1],
                    "result": str(result.outcome),
                }
                for result in applied
            ],
        },
    )


def update_rows(model: type[models.Model], instances: list[Any], names: list[str]) -> None:
    """Store ``names`` (fields or attnames) of ``instances`` in one ``UPDATE ... FROM
    (VALUES ...)`` (PostgreSQL): a thousand updated warrants were a thousand statements,
    the slowest feed there is. Each value is cast to its column's type, as a saved
    field's would be."""
    if not instances:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    concrete = [field for field in fields if isinstance(field, models.Field)]
    if len(concrete) != len(fields):
        raise ValueError("update_rows writes columns, not relations")
    quote = connection.ops.quote_name
    pk = meta.pk
    assert pk is not None  # noqa: S101  (every model has one)
    columns = [quote(str(pk.column))] + [quote(str(field.column)) for field in concrete]
    cast = [pk.db_type(connection)] + [field.db_type(connection) for field in concrete]
    row = "(" + ", ".join(f"%s::{kind}" for kind in cast) + ")"
    params: list[Any] = []
    for instance in instances:
        params.append(pk.get_db_prep_save(instance.pk, connection))
        params += [
            field.get_db_prep_save(getattr(instance, field.attname), connection)
            for field in concrete
        ]
    key = columns[0]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608  (model names)
        f"FROM (VALUES {', '.join([row] * len(instances))}) AS v({', '.join(columns)}) "
        f"WHERE t.{key} = v.{key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _assign(instance: Any, values: dict[str, Any], provenance: dict[str, Any]) -> None:
    for name, value in {**provenance, **values}.items():
        setattr(instance, name, value)


def _all_same(names: list[list[str]]) -> bool:
    return all(sorted(each) == sorted(names[0]) for each in names)
