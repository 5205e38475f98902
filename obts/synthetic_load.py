"""Write synthetic people (obts.synthetic) into the database in bulk.

Rows go in with ``bulk_create`` in batches, bypassing the feeds (which match every record
one by one): this is for demos and benchmarks, where the people are known to be distinct.
Name keys, status and flags are computed exactly as intake computes them.
"""

import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from operator import attrgetter
from typing import Any

from django.db import connection, transaction
from django.db.models import ForeignKey, Model

from obts.matching import key_hashes, name_keys
from obts.models import (
    Address,
    Case,
    Charge,
    CustodyPeriod,
    IdentifierKind,
    Infraction,
    NameKey,
    Person,
    PersonIdentifier,
    PersonName,
    PersonSource,
    ProtectiveOrder,
    Registration,
    Supervision,
    Warrant,
)
from obts.status import Facts, compute_flags, compute_restricted_views, compute_status
from obts.synthetic import Generator, SynthName, SynthPerson

SOURCE_SYSTEMS = {
    "person": "DPS-MNI",
    "case": "JUD-CCMS",
    "custody": "DOC-OMIS",
    "supervision": "CSSD-CMS",
    "order": "JUD-PORS",
    "warrant": "JUD-PRAWN",
    "registration": "DPS-SOR",
    "infraction": "JUD-CIB",
}


def _as_of(day: Any) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def _record_kwargs(data: dict[str, Any], system: str, as_of: datetime) -> dict[str, Any]:
    fields = {key: value for key, value in data.items() if key not in ("source_id", "charges")}
    return {"source_system": system, "source_id": data["source_id"], "as_of": as_of, **fields}


def _names(person: Person, source: PersonSource, synth: SynthPerson) -> list[PersonName]:
    def row(name: SynthName, primary: bool) -> PersonName:
        return PersonName(
            person=person,
            source=source,
            is_primary=primary,
            first_name=name.first,
            middle_name=name.middle,
            last_name=name.last,
            suffix=name.suffix,
            dob=name.dob,
        )

    return [row(synth.primary, True)] + [row(alias, False) for alias in synth.aliases]


@dataclass
class Prepared:
    """One batch of synthetic people as unsaved model instances, parents before children.
    Foreign keys point at the parent instances, so the rows can be written by either
    :func:`_write_orm` or the COPY writer once the parents have their ids."""

    persons: list[Person] = field(default_factory=list)
    sources: list[PersonSource] = field(default_factory=list)
    names: list[PersonName] = field(default_factory=list)
    identifiers: list[PersonIdentifier] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    records: dict[type[Model], list[Model]] = field(default_factory=dict)
    charges: list[tuple[Case, dict[str, Any]]] = field(default_factory=list)

    def rows(self) -> int:
        return (
            len(self.persons)
            + len(self.sources)
            + len(self.names)
            + len(self.identifiers)
            + len(self.addresses)
            + sum(len(rows) for rows in self.records.values())
            + len(self.charges)
        )


def _prepare(batch: list[SynthPerson], today: Any) -> Prepared:
    as_of = _as_of(today)
    prepared = Prepared()
    for synth in batch:
        records: dict[str, list[Any]] = {
            "cases": [
                Case(**_record_kwargs(c, SOURCE_SYSTEMS["case"], as_of)) for c in synth.cases
            ],
            "custody": [
                CustodyPeriod(**_record_kwargs(c, SOURCE_SYSTEMS["custody"], as_of))
                for c in synth.custody
            ],
            "supervisions": [
                Supervision(**_record_kwargs(s, SOURCE_SYSTEMS["supervision"], as_of))
                for s in synth.supervisions
            ],
            "orders": [
                ProtectiveOrder(**_record_kwargs(o, SOURCE_SYSTEMS["order"], as_of))
                for o in synth.orders
            ],
            "warrants": [
                Warrant(**_record_kwargs(w, SOURCE_SYSTEMS["warrant"], as_of))
                for w in synth.warrants
            ],
            "registrations": [
                Registration(**_record_kwargs(r, SOURCE_SYSTEMS["registration"], as_of))
                for r in synth.registrations
            ],
            "infractions": [
                Infraction(**_record_kwargs(i, SOURCE_SYSTEMS["infraction"], as_of))
                for i in synth.infractions
            ],
        }
        facts = Facts(
            caution=synth.caution,
            cases=records["cases"],
            custody=records["custody"],
            supervisions=records["supervisions"],
            orders=records["orders"],
            warrants=records["warrants"],
            registrations=records["registrations"],
        )
        person = Person(
            sex=synth.sex,
            race=synth.race,
            height_in=synth.height_in,
            weight_lb=synth.weight_lb,
            eye_color=synth.eye_color,
            hair_color=synth.hair_color,
            caution=synth.caution,
            status=compute_status(facts),
            flags=compute_flags(facts, today),
            restricted_views=compute_restricted_views(facts, today),
            status_computed_at=as_of,
        )
        source = PersonSource(
            person=person,
            source_system=SOURCE_SYSTEMS["person"],
            source_id=f"SYN-{synth.number}",
            as_of=as_of,
        )
        prepared.persons.append(person)
        prepared.sources.append(source)
        prepared.names += _names(person, source, synth)
        for kind, value, state in (
            (IdentifierKind.SID, synth.sid, ""),
            (IdentifierKind.FBI, synth.fbi_number, ""),
            (IdentifierKind.DRIVERS_LICENSE, synth.dl_number, synth.dl_state),
        ):
            if value:
                prepared.identifiers.append(
                    PersonIdentifier(
                        person=person, source=source, kind=kind, value=value, state=state
                    )
                )
        prepared.addresses.append(
            Address(person=person, source=source, **synth.address).fill_location_key()
        )
        for rows in records.values():
            for row in rows:
                row.person = person
                prepared.records.setdefault(type(row), []).append(row)
        for case, data in zip(records["cases"], synth.cases, strict=True):
            prepared.charges += [(case, charge) for charge in data["charges"]]
    return prepared


def _name_key_rows(names: list[PersonName]) -> list[tuple[int, int]]:
    """(name id, key hash) of every name: the NameKey rows, without model instances."""
    return [
        (name.pk, key)
        for name in names
        for key in key_hashes(
            name_keys(name.first_name, name.middle_name, name.last_name, name.dob)
        )
    ]


@transaction.atomic
def _write_orm(prepared: Prepared) -> int:
    Person.objects.bulk_create(prepared.persons)
    PersonSource.objects.bulk_create(prepared.sources)
    PersonName.objects.bulk_create(prepared.names)
    PersonIdentifier.objects.bulk_create(prepared.identifiers)
    Address.objects.bulk_create(prepared.addresses)
    keys = [NameKey(name_id=name_id, key=key) for name_id, key in _name_key_rows(prepared.names)]
    NameKey.objects.bulk_create(keys, batch_size=5000)
    for model, rows in prepared.records.items():
        model._default_manager.bulk_create(rows)
    Charge.objects.bulk_create([Charge(case=case, **data) for case, data in prepared.charges])
    return prepared.rows() + len(keys)


def load_batch(batch: list[SynthPerson], today: Any) -> int:
    """Insert one batch of people with everything they carry, in one transaction, through
    the ORM (any database); returns rows written."""
    return _write_orm(_prepare(batch, today))


# PostgreSQL: COPY ----------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).translate(_COPY_ESCAPES)


def copy_rows(cursor: Any, table: str, columns: list[str], lines: Iterable[str]) -> None:
    """COPY ``lines`` (rows in COPY's text format, each ending in a newline) into
    ``table``."""
    buffer = io.StringIO()
    buffer.writelines(lines)
    buffer.seek(0)
    names = ", ".join(f'"{column}"' for column in columns)
    cursor.copy_expert(f'COPY "{table}" ({names}) FROM STDIN', buffer)


def _reserve_ids(cursor: Any, model: type[Model], count: int) -> list[int]:
    table = model._meta.db_table
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _getter(field: Any) -> Callable[[Model], Any]:
    """How to read a field's value to insert: ``pre_save`` for the fields the ORM fills on
    insert (auto_now and auto_now_add times), the attribute otherwise (much faster)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: field.pre_save(obj, True)
    return attrgetter(field.attname)


def _copy_models(cursor: Any, model: type[Model], objs: list[Model]) -> None:
    """Give ``objs`` ids from the table's sequence and COPY them in; foreign keys are read
    from the parent instances, which must have been written first."""
    if not objs:
        return
    for obj, pk in zip(objs, _reserve_ids(cursor, model, len(objs)), strict=True):
        obj.pk = pk
    # Generated columns are the database's to fill.
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    related = [f for f in fields if isinstance(f, ForeignKey)]
    for obj in objs:
        for relation in related:
            parent = relation.get_cached_value(obj, default=None)
            if parent is not None:
                setattr(obj, relation.attname, parent.pk)
    getters = [_getter(f) for f in fields]
    copy_rows(
        cursor,
        model._meta.db_table,
        [f.attname for f in fields],
        ("\t".join([copy_text(get(obj)) for get in getters]) + "\n" for obj in objs),
    )


def _write_copy(prepared: Prepared) -> int:
    charges = [Charge(case=case, **data) for case, data in prepared.charges]
    with transaction.atomic(), connection.cursor() as cursor:
        _copy_models(cursor, Person, list(prepared.persons))
        _copy_models(cursor, PersonSource, list(prepared.sources))
        _copy_models(cursor, PersonName, list(prepared.names))
        _copy_models(cursor, PersonIdentifier, list(prepared.identifiers))
        _copy_models(cursor, Address, list(prepared.addresses))
        keys = _name_key_rows(prepared.names)
        lines = (f"{name_id}\t{key}\n" for name_id, key in keys)
        copy_rows(cursor, NameKey._meta.db_table, ["name_id", "key"], lines)
        for model, rows in prepared.records.items():
            _copy_models(cursor, model, rows)
        _copy_models(cursor, Charge, list(charges))
    return prepared.rows() + len(keys)


def load_batch_copy(batch: list[SynthPerson], today: Any) -> int:
    """:func:`load_batch` through PostgreSQL's COPY: the same rows, several times faster."""
    return _write_copy(_prepare(batch, today))


def load(people: Iterable[SynthPerson], *, today: Any, batch_size: int = 1000) -> int:
    """Load people in batches, each in its own transaction; returns rows written. Uses
    COPY on PostgreSQL and the ORM elsewhere."""
    write = load_batch_copy if connection.vendor == "postgresql" else load_batch
    written = 0
    batch: list[SynthPerson] = []
    for synth in people:
        batch.append(synth)
        if len(batch) >= batch_size:
            written += write(batch, today)
            batch = []
    if batch:
        written += write(batch, today)
    return written


# Large loads: chunks in parallel, name-key indexes built once at the end ----------------

CHUNK = 10_000


@dataclass(frozen=True)
class Chunk:
    seed: int
    start: int
    count: int
    today: date
    batch_size: int


def chunks(*, count: int, seed: int, start: int, today: date, batch_size: int) -> list[Chunk]:
    """The work split into chunks of ``CHUNK`` people, each generated from its own seed
    (derived from ``seed`` and the chunk's first number): the people depend on the seed,
    the start and the count, not on how many workers load them."""
    return [
        Chunk(
            seed=seed * 1_000_003 + first,
            start=first,
            count=min(CHUNK, start + count - first),
            today=today,
            batch_size=batch_size,
        )
        for first in range(start, start + count, CHUNK)
    ]


def load_chunk(chunk: Chunk) -> tuple[int, int]:
    """Generate and load one chunk; returns (people, rows written)."""
    generator = Generator(chunk.seed, chunk.today)
    rows = load(
        generator.persons(chunk.count, start=chunk.start),
        today=chunk.today,
        batch_size=chunk.batch_size,
    )
    return chunk.count, rows


@contextmanager
def name_key_indexes_deferred() -> Iterator[None]:
    """On PostgreSQL, drop the name-key table's primary key and indexes for the duration
    and build them once at the end: much faster than maintaining them row by row for tens
    of millions of keys. Rebuilt even when the load fails. Elsewhere, does nothing. (The
    table has no foreign key: see ``NameKey``.)"""
    if connection.vendor != "postgresql":
        yield
        return
    table = NameKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        connection.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:
                cursor.execute(definition)
            cursor.execute(f'ANALYZE "{table}"')
