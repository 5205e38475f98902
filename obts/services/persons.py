"""Master name index intake: a source system's record of a person, upserted by
``(source_system, source_id)`` (``PersonSource``).

A *new* source record is matched first (``obts.services.matching.find_person``): an
exact identifier or a confident name-and-date-of-birth match links it to that person;
otherwise a new person is created, and a weak match opens a ``PossibleDuplicate`` for
CJIS review. An existing source record is updated in place and never re-matched.

What a source record stores:

- its names (the primary name, then the aliases, each with its own date of birth) with
  their matching keys (``obts.matching.name_keys``), its identifiers and its addresses:
  rows of that source, replaced as a whole when they differ from what is sent;
- the person's identifying data and caution. While the source is the person's only one
  the record is the whole truth and an empty field clears the value; once several
  sources describe the person, an empty field leaves what another source said (a DMV
  record without a caution must not erase the one a police system set).

The names of the source that created the person are the person's primary name; a source
linked later adds its names as aliases.

An update older (``as_of``) than the stored one is ``stale`` and not applied; one equal
to what is stored is ``unchanged`` and writes nothing (a newer ``as_of`` is remembered).
Neither writes an audit row. A request that applies records writes one row, at the end of
its transaction: ``obts.person.upserted`` naming the person when one record was applied,
``obts.persons.upserted`` listing them (person, source, result, match) when several were.
Once it commits, the listeners of ``obts.services.changes`` hear of the applied records.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import serializers

from obts.matching import key_hashes, name_keys
from obts.models import (
    Address,
    IdentifierKind,
    NameKey,
    Person,
    PersonIdentifier,
    PersonName,
    PersonSource,
    PossibleDuplicate,
)
from obts.services.changes import records_changed
from obts.services.intake import (
    Outcome,
    RecordResult,
    Submitter,
    check_batch_size,
    error_result,
    normalize_identifier,
    record_validator,
    source_keys_condition,
    stale_reason,
    stored_source_exists,
)
from obts.services.matching import (
    BatchCandidates,
    IdentifierHolders,
    NameQuery,
    PersonMatch,
    find_person,
)
from obts.services.person_schemas import PersonInputSerializer
from obts.services.plain_validation import plain_validator
from obts.services.status_refresh import persons_refresh
from portal import audit, pg
from portal.bulk_insert import bulk_insert
from portal.collector import collector_paused

PERSON_ATTRIBUTES = (
    "sex",
    "race",
    "height_in",
    "weight_lb",
    "eye_color",
    "hair_color",
    "scars_marks_tattoos",
    "caution",
)
# Input field -> identifier kind (driver's licences also carry their state).
IDENTIFIER_FIELDS = {
    "sid": IdentifierKind.SID,
    "fbi_number": IdentifierKind.FBI,
    "dl_number": IdentifierKind.DRIVERS_LICENSE,
    "doc_number": IdentifierKind.DOC_NUMBER,
    "probation_number": IdentifierKind.PROBATION_NUMBER,
    "parole_number": IdentifierKind.PAROLE_NUMBER,
}
NAME_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "dob")
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "from_date", "to_date")

NameRow = tuple[str, str, str, str, date | None]
IdentifierRow = tuple[str, str, str]
AddressRow = tuple[str, str, str, str, str, date | None, date | None]
SourceKey = tuple[str, str]


@dataclass(frozen=True)
class PersonRecordInput:
    """A validated person record in the form it is stored."""

    source_system: str
    source_id: str
    as_of: datetime | None
    names: list[NameRow]  # the primary name first
    identifiers: set[IdentifierRow]
    addresses: list[AddressRow]
    attributes: dict[str, Any]

    @classmethod
    def from_validated(cls, data: dict[str, Any]) -> "PersonRecordInput":
        names = [tuple(data[name] for name in NAME_FIELDS)]
        names += [tuple(alias[name] for name in NAME_FIELDS) for alias in data["aliases"]]
        identifiers = set()
        for field, kind in IDENTIFIER_FIELDS.items():
            value = normalize_identifier(data[field])
            if value:
                state = data["dl_state"] if kind == IdentifierKind.DRIVERS_LICENSE else ""
                identifiers.add((str(kind), value, state))
        return cls(
            source_system=data["source_system"],
            source_id=data["source_id"],
            as_of=data.get("as_of"),
            names=names,
            identifiers=identifiers,
            addresses=[tuple(a[name] for name in ADDRESS_FIELDS) for a in data["addresses"]],
            attributes={name: data[name] for name in PERSON_ATTRIBUTES},
        )

    def identifier(self, kind: str) -> tuple[str, str]:
        for row_kind, value, state in sorted(self.identifiers):
            if row_kind == kind:
                return value, state
        return "", ""


def persons_upsert(
    records: Sequence[Any], *, submitter: Submitter, refresh: bool = True
) -> list[RecordResult]:
    """Upsert person records (parsed JSON, one per element); one result per record, in
    order. Refuses more than ``BATCH_LIMIT`` (``BatchTooLarge``); bad records are results
    with field errors, never exceptions.

    ``refresh=False`` leaves recomputing the persons' status and flags to the caller, who
    must run ``persons_refresh`` on them in the same transaction: for a caller that
    records more about the person next (an arrest notice's case), so that it is done
    once."""
    check_batch_size(list(records))
    with collector_paused():
        return _persons_upsert(records, submitter, refresh=refresh)


def _persons_upsert(
    records: Sequence[Any], submitter: Submitter, *, refresh: bool
) -> list[RecordResult]:
    results: list[RecordResult | None] = [None] * len(records)
    valid: list[tuple[int, PersonRecordInput]] = []
    serializer = record_validator(PersonInputSerializer)
    plain = plain_validator(PersonInputSerializer)
    for index, raw in enumerate(records):
        if not isinstance(raw, dict):
            results[index] = error_result(
                index, {"non_field_errors": ["Each record must be a JSON object."]}
            )
            continue
        try:
            data = (plain(raw) if plain else None) or serializer.run_validation(raw)
        except serializers.ValidationError as error:
            results[index] = error_result(index, error)
            continue
        valid.append((index, PersonRecordInput.from_validated(data)))

    if valid:
        # Records that the database refuses are undone in their own savepoints; the batch
        # as a whole needs none of its own when the caller's transaction holds it.
        with transaction.atomic(savepoint=False):
            for result in _upsert_valid(valid, submitter, refresh=refresh):
                results[result.index] = result
    return [result for result in results if result is not None]


def _stored_sources(keys: set[SourceKey]) -> dict[SourceKey, PersonSource]:
    # A batch of new sources (an arrest notice's subject, a new person's record) is the
    # usual one: one light statement tells, and the locking read of stored sources with
    # their person, which costs more to compile than to run, is skipped. A source another
    # request stores meanwhile meets the unique constraint when this one inserts it, as it
    # would after the locking read.
    if not keys or not stored_source_exists(PersonSource, keys):
        return {}
    queryset = (
        PersonSource.objects.select_for_update(of=("self",))
        .filter(source_keys_condition(PersonSource, keys))
        .select_related("person")
        .prefetch_related(
            Prefetch("names", queryset=PersonName.objects.order_by("pk")),
            "identifiers",
            Prefetch("addresses", queryset=Address.objects.order_by("pk")),
            Prefetch("person__sources", queryset=PersonSource.objects.only("pk", "person_id")),
        )
        .order_by("pk")
    )
    return {(source.source_system, source.source_id): source for source in queryset}


def _upsert_valid(
    valid: list[tuple[int, PersonRecordInput]], submitter: Submitter, *, refresh: bool
) -> list[RecordResult]:
    keys = Counter((record.source_system, record.source_id) for _, record in valid)
    stored = _stored_sources(set(keys))
    now = timezone.now()
    results: list[RecordResult] = []
    holders = IdentifierHolders(
        (kind, value)
        for _, record in valid
        for kind, value, _ in record.identifiers
        if kind in MATCHED_IDENTIFIERS
    )
    candidates = BatchCandidates(
        _name_queries(record)
        for _, record in valid
        if keys[(record.source_system, record.source_id)] == 1
        and (record.source_system, record.source_id) not in stored
    )
    new = _NewSources(stored, now, holders, candidates, submitter.all_or_nothing)
    for index, record in valid:
        key = (record.source_system, record.source_id)
        # Later records look this one's identifiers up in the database, not in the
        # batch's reading from before it.
        written = [(kind, value) for kind, value, _ in record.identifiers]
        if key not in stored and keys[key] == 1:
            results += new.add(index, record, key)
            holders.forget(written)
            continue
        # An update, or a source the batch names twice: written now, on its own.
        results += new.write()
        result = _upsert_in_savepoint(index, record, key, stored, now)
        result.key = key
        # An update may also have taken identifiers or names away: every later look-up
        # is live.
        holders.forget()
        candidates.forget()
        if result.applied and keys[key] > 1:
            # A later record of the batch has the same key: it must see this one.
            stored.update(_stored_sources({key}))
        results.append(result)
    results += new.write()

    applied = [result for result in results if result.applied]
    if applied and refresh:
        persons_refresh({result.instance.pk for result in applied})
    _audit(applied, submitter)
    if not submitter.announced_by_caller:
        records_changed(
            "persons",
            {result.instance.pk for result in applied},
            [result.instance for result in applied],
            sources=[result.key for result in applied],
        )
    return results


@dataclass
class _NewSource:
    index: int
    record: PersonRecordInput
    key: SourceKey
    match: PersonMatch
    name_keys: list[list[int]] | None = None  # each name's key hashes, when worked out


class _NewSources:
    """New source records of a batch, matched one by one as they come and written
    together, one statement per table, instead of some ten statements each.

    A record is matched against the database only (its candidates as the batch read
    them at the start, :class:`~obts.services.matching.BatchCandidates`, with what the
    batch wrote since); so before matching one that could meet a record still waiting
    (a name key or an identifier in common, or a name with no date of birth, which the
    matcher may look up by trigram), those are written first: each record is matched
    against every record before it, as one at a time. A
    lot the database refuses (another request created one of its sources meanwhile, a
    value out of range) is rolled back and its records written one at a time, each in
    its own savepoint, as updates are."""

    def __init__(
        self,
        stored: dict[SourceKey, PersonSource],
        now: datetime,
        holders: IdentifierHolders,
        candidates: BatchCandidates,
        all_or_nothing: bool = False,
    ) -> None:
        self.stored, self.now = stored, now
        self.all_or_nothing = all_or_nothing
        self.holders, self.candidates = holders, candidates
        self.waiting: list[_NewSource] = []
        self.keys: set[int] = set()  # the key hashes the waiting records' names store
        self.identifiers: set[tuple[str, str]] = set()

    def add(self, index: int, record: PersonRecordInput, key: SourceKey) -> list[RecordResult]:
        written = self.write() if self.waiting and self._meets(record) else []
        match = _match(record, self.holders, self.candidates)
        stored_keys = [
            key_hashes(name_keys(first, middle, last, dob))
            for first, middle, last, _, dob in record.names
        ]
        self.waiting.append(_NewSource(index, record, key, match, stored_keys))
        for hashes in stored_keys:
            self.keys.update(hashes)
        self.identifiers |= {(kind, value) for kind, value, _ in record.identifiers}
        return written

    def _meets(self, record: PersonRecordInput) -> bool:
        if any(dob is None for *_, dob in record.names):
            return True
        if any((kind, value) in self.identifiers for kind, value, _ in record.identifiers):
            return True
        return not self.keys.isdisjoint(self.candidates.keys(_name_queries(record)))

    def write(self) -> list[RecordResult]:
        waiting, self.waiting = self.waiting, []
        self.keys, self.identifiers = set(), set()
        if not waiting:
            return []
        try:
            with transaction.atomic(savepoint=not self.all_or_nothing):
                results, keys = _write_new(waiting, self.now)
        except DatabaseError:
            if self.all_or_nothing:  # the caller's transaction is rolled back whole
                raise
            self.candidates.forget()
            results = []
            for new in waiting:
                result = _upsert_in_savepoint(new.index, new.record, new.key, self.stored, self.now)
                result.key = new.key
                results.append(result)
            return results
        linked = {new.match.person_id for new in waiting if new.match.person_id is not None}
        self.candidates.written(*keys, persons=linked)
        return results


# The identifiers the matcher looks up (find_person).
MATCHED_IDENTIFIERS = {IdentifierKind.SID, IdentifierKind.FBI, IdentifierKind.DRIVERS_LICENSE}


def _name_queries(record: PersonRecordInput) -> list[NameQuery]:
    return [NameQuery(*name) for name in record.names]


def _match(
    record: PersonRecordInput,
    holders: IdentifierHolders | None = None,
    candidates: BatchCandidates | None = None,
) -> PersonMatch:
    sid, _ = record.identifier(IdentifierKind.SID)
    fbi_number, _ = record.identifier(IdentifierKind.FBI)
    dl_number, dl_state = record.identifier(IdentifierKind.DRIVERS_LICENSE)
    return find_person(
        names=_name_queries(record),
        sex=record.attributes["sex"],
        sid=sid,
        fbi_number=fbi_number,
        dl_number=dl_number,
        dl_state=dl_state,
        holders_of=holders,
        candidates_of=candidates,
    )


def _write_new(
    waiting: list[_NewSource], now: datetime
) -> tuple[list[RecordResult], tuple[list[int], list[int]]]:
    """The persons, sources, names, keys, identifiers, addresses and possible duplicates
    of ``waiting``, one statement each (the matched persons' changed attributes one
    ``UPDATE`` each, in order); the results, and the keys stored (name ids, keys)."""
    linked = Person.objects.in_bulk({new.match.person_id for new in waiting} - {None})
    created = bulk_insert(
        [Person(**new.record.attributes) for new in waiting if new.match.person_id is None]
    )
    fresh = iter(created)
    persons = []
    for new in waiting:
        if new.match.person_id is None:
            persons.append(next(fresh))
            continue
        person = linked[new.match.person_id]
        attributes = _attribute_changes(person, new.record.attributes, sole_source=False)
        if attributes:
            for name, value in attributes.items():
                setattr(person, name, value)
            person.save(update_fields=[*attributes, "updated_at"])
        persons.append(person)
    sources = bulk_insert(
        [
            PersonSource(
                person=person,
                source_system=new.record.source_system,
                source_id=new.record.source_id,
                as_of=new.record.as_of or now,
                received_at=now,
            )
            for new, person in zip(waiting, persons, strict=True)
        ]
    )
    rows = list(zip(waiting, persons, sources, strict=True))
    hashes: list[list[int] | None] = []
    for new in waiting:
        hashes += new.name_keys or [None] * len(new.record.names)
    keys = _add_names(
        [
            (person, source, new.record.names, new.match.person_id is None)
            for new, person, source in rows
        ],
        hashes,
    )
    _add_identifiers([(person, source, new.record.identifiers) for new, person, source in rows])
    _add_addresses([(person, source, new.record.addresses) for new, person, source in rows])
    duplicates = PossibleDuplicate.objects.bulk_create(
        [
            PossibleDuplicate(person=person, candidate_id=candidate, score=score, reasons=reasons)
            for new, person, _ in rows
            for candidate, score, reasons in new.match.possible
        ]
    )
    public_ids = dict(
        Person.objects.filter(pk__in={d.candidate_id for d in duplicates}).values_list(
            "pk", "public_id"
        )
        if duplicates
        else []
    )
    results = []
    for new, person, _ in rows:
        match = new.match
        details = _details(
            new.record, "linked" if match.person_id else "created", match=match.describe()
        )
        if match.possible:
            details["possible_duplicates"] = [
                {"candidate": str(public_ids[candidate]), "score": score}
                for candidate, score, _ in match.possible
            ]
        result = RecordResult(new.index, Outcome.CREATED, person, details=details)
        result.key = new.key
        results.append(result)
    return results, keys


def _audit(applied: list[RecordResult], submitter: Submitter) -> None:
    """One audit row per request, last: naming the person when one record was applied,
    listing them when several were (one chained append per batch, not per record)."""
    if submitter.audited_by_caller:
        return
    if len(applied) == 1:
        (result,) = applied
        audit.record(
            "obts.person.upserted",
            api_client=submitter.api_client,
            target=result.instance,
            details={**result.details, **submitter.audit_details()},
        )
    elif applied:
        audit.record(
            "obts.persons.upserted",
            api_client=submitter.api_client,
            object_type=Person._meta.label_lower,
            details={
                **submitter.audit_details(),
                "count": len(applied),
                "records": [{"id": result.public_id(), **result.details} for result in applied],
            },
        )


def _upsert_in_savepoint(
    index: int,
    record: PersonRecordInput,
    key: SourceKey,
    stored: dict[SourceKey, PersonSource],
    now: datetime,
) -> RecordResult:
    """One record in its own savepoint: a record the database refuses leaves the others."""
    source = stored.get(key)
    try:
        with transaction.atomic():
            return _upsert_one(index, record, source, now)
    except IntegrityError:
        if source is not None:
            return _refused(index, key, stored)
        # Another request created this source record meanwhile: update it instead.
        stored.update(_stored_sources({key}))
        if key not in stored:
            return _refused(index, key, stored)
        return _upsert_in_savepoint(index, record, key, stored, now)
    except DatabaseError:
        return _refused(index, key, stored)


def _refused(index: int, key: SourceKey, stored: dict[SourceKey, PersonSource]) -> RecordResult:
    # The savepoint rolled back; the in-memory copy may hold refused values.
    stored.pop(key, None)
    stored.update(_stored_sources({key}))
    message = "The database refused this record; nothing of it was stored."
    return error_result(index, {"non_field_errors": [message]})


def _upsert_one(
    index: int, record: PersonRecordInput, source: PersonSource | None, now: datetime
) -> RecordResult:
    if source is None:
        return _create_source(index, record, now)
    as_of = record.as_of or now

    person = source.person
    if as_of < source.as_of:
        return RecordResult(index, Outcome.STALE, person, reason=stale_reason(as_of, source.as_of))

    names = [tuple(getattr(n, f) for f in NAME_FIELDS) for n in source.names.all()]
    identifiers = {(i.kind, i.value, i.state) for i in source.identifiers.all()}
    addresses = [tuple(getattr(a, f) for f in ADDRESS_FIELDS) for a in source.addresses.all()]
    sole_source = len(person.sources.all()) == 1
    attributes = _attribute_changes(person, record.attributes, sole_source=sole_source)
    changed = {
        "names": names != record.names,
        "identifiers": identifiers != record.identifiers,
        "addresses": addresses != record.addresses,
        "attributes": bool(attributes),
    }
    if not any(changed.values()):
        if as_of > source.as_of:
            PersonSource.objects.filter(pk=source.pk).update(as_of=as_of)
            source.as_of = as_of
        return RecordResult(index, Outcome.UNCHANGED, person)

    if changed["names"]:
        was_primary = any(name.is_primary for name in source.names.all())
        source.names.all().delete()
        _add_names([(person, source, record.names, was_primary)])
    if changed["identifiers"]:
        source.identifiers.all().delete()
        _add_identifiers([(person, source, record.identifiers)])
    if changed["addresses"]:
        source.addresses.all().delete()
        _add_addresses([(person, source, record.addresses)])
    if attributes:
        for name, value in attributes.items():
            setattr(person, name, value)
        person.save(update_fields=[*attributes, "updated_at"])
    source.as_of, source.received_at = as_of, now
    source.save(update_fields=["as_of", "received_at"])
    return RecordResult(
        index,
        Outcome.UPDATED,
        person,
        details=_details(record, "updated", changed=[part for part, did in changed.items() if did]),
    )


def _create_source(index: int, record: PersonRecordInput, now: datetime) -> RecordResult:
    """A new source on its own: matched, then written as a lot of one."""
    key = (record.source_system, record.source_id)
    (result,), _ = _write_new([_NewSource(index, record, key, _match(record))], now)
    return result


def _details(record: PersonRecordInput, result: str, **more: Any) -> dict[str, Any]:
    return {
        "source_system": record.source_system,
        "source_id": record.source_id,
        "result": result,
        **more,
    }


def _attribute_changes(
    person: Person, incoming: dict[str, Any], *, sole_source: bool
) -> dict[str, Any]:
    changes = {}
    for name, value in incoming.items():
        if value in ("", None) and not sole_source:
            continue
        if getattr(person, name) != value:
            changes[name] = value
    return changes


def _add_names(
    owners: list[tuple[Person, PersonSource, list[NameRow], bool]],
    hashes: Sequence[list[int] | None] = (),
) -> tuple[list[int], list[int]]:
    """Each source's names (the first primary when ``primary``) with their keys; the keys
    stored, as a column of name ids and one of keys. ``hashes`` holds each name's key
    hashes, in the same order, where already worked out."""
    rows = bulk_insert(
        [
            PersonName(
                person=person,
                source=source,
                is_primary=primary and position == 0,
                first_name=first,
                middle_name=middle,
                last_name=last,
                suffix=suffix,
                dob=dob,
            )
            for person, source, names, primary in owners
            for position, (first, middle, last, suffix, dob) in enumerate(names)
        ]
    )
    known = list(hashes) or [None] * len(rows)
    name_ids: list[int] = []
    keys: list[int] = []
    for row, held in zip(rows, known, strict=True):
        if held is None:
            held = key_hashes(name_keys(row.first_name, row.middle_name, row.last_name, row.dob))
        name_ids += [row.pk] * len(held)
        keys += held
    insert_name_keys(name_ids, keys)
    return name_ids, keys


def insert_name_keys(name_ids: Sequence[int], keys: Sequence[int]) -> None:
    """Store name key rows, ``name_ids[i]`` holding ``keys[i]``, in one statement (two
    array literals on PostgreSQL), without a model instance per key: a name has some
    forty keys, and building and compiling them as ``NameKey`` objects was an eighth of a
    person's intake. Given as two columns, not as pairs: a batch stores some 43,000."""
    if not keys:
        return
    quote = connection.ops.quote_name
    table = quote(NameKey._meta.db_table)
    name, key = quote("name_id"), quote("key")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({name}, {key}) "  # noqa: S608  (names from the model)
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                [pg.bigint_array(name_ids), pg.bigint_array(keys)],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({name}, {key}) VALUES (%s, %s)",  # noqa: S608
                list(zip(name_ids, keys, strict=True)),
            )


def _add_identifiers(owners: list[tuple[Person, PersonSource, set[IdentifierRow]]]) -> None:
    bulk_insert(
        [
            PersonIdentifier(person=person, source=source, kind=kind, value=value, state=state)
            for person, source, identifiers in owners
            for kind, value, state in sorted(identifiers)
        ]
    )


def _add_addresses(owners: list[tuple[Person, PersonSource, list[AddressRow]]]) -> None:
    bulk_insert(
        [
            Address(
                person=person, source=source, **dict(zip(ADDRESS_FIELDS, row, strict=True))
            ).fill_location_key()
            for person, source, addresses in owners
            for row in addresses
        ]
    )
