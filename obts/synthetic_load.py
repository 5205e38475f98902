"""Write synthetic people (obts.synthetic) into the database in bulk.

Rows go in with ``bulk_create`` in batches, bypassing the feeds (which match every record
one by one): this is for demos and benchmarks, where the people are known to be distinct.
Name keys, status and flags are computed exactly as intake computes them.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Any

from django.db import transaction

from obts.matching import name_keys
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
from obts.status import Facts, compute_flags, compute_status
from obts.synthetic import SynthName, SynthPerson

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


@transaction.atomic
def load_batch(batch: list[SynthPerson], today: Any) -> int:
    """Insert one batch of people with everything they carry; returns rows written."""
    as_of = _as_of(today)
    persons = []
    prepared: list[tuple[Person, SynthPerson, dict[str, list[Any]]]] = []
    for synth in batch:
        person = Person(
            sex=synth.sex,
            race=synth.race,
            height_in=synth.height_in,
            weight_lb=synth.weight_lb,
            eye_color=synth.eye_color,
            hair_color=synth.hair_color,
            caution=synth.caution,
        )
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
        person.status = compute_status(facts)
        person.flags = compute_flags(facts, today)
        person.status_computed_at = as_of
        persons.append(person)
        prepared.append((person, synth, records))
    Person.objects.bulk_create(persons)

    sources = [
        PersonSource(
            person=person,
            source_system=SOURCE_SYSTEMS["person"],
            source_id=f"SYN-{synth.number}",
            as_of=as_of,
        )
        for person, synth, _ in prepared
    ]
    PersonSource.objects.bulk_create(sources)

    names: list[PersonName] = []
    identifiers: list[PersonIdentifier] = []
    addresses: list[Address] = []
    for (person, synth, _), source in zip(prepared, sources, strict=True):
        names += _names(person, source, synth)
        for kind, value, state in (
            (IdentifierKind.SID, synth.sid, ""),
            (IdentifierKind.FBI, synth.fbi_number, ""),
            (IdentifierKind.DRIVERS_LICENSE, synth.dl_number, synth.dl_state),
        ):
            if value:
                identifiers.append(
                    PersonIdentifier(
                        person=person, source=source, kind=kind, value=value, state=state
                    )
                )
        addresses.append(Address(person=person, source=source, **synth.address))
    PersonName.objects.bulk_create(names)
    PersonIdentifier.objects.bulk_create(identifiers)
    Address.objects.bulk_create(addresses)
    keys = [
        NameKey(name=name, key=key)
        for name in names
        for key in sorted(name_keys(name.first_name, name.middle_name, name.last_name, name.dob))
    ]
    NameKey.objects.bulk_create(keys, batch_size=5000)

    records_by_model: dict[type[Any], list[Any]] = {}
    for person, _, records in prepared:
        for rows in records.values():
            for row in rows:
                row.person = person
                records_by_model.setdefault(type(row), []).append(row)
    written = len(persons) + len(sources) + len(names) + len(identifiers) + len(addresses)
    written += len(keys)
    for model, rows in records_by_model.items():
        model.objects.bulk_create(rows)
        written += len(rows)

    charges = [
        Charge(case=case, **charge)
        for (_, synth, records) in prepared
        for case, data in zip(records["cases"], synth.cases, strict=True)
        for charge in data["charges"]
    ]
    Charge.objects.bulk_create(charges)
    return written + len(charges)


def load(people: Iterable[SynthPerson], *, today: Any, batch_size: int = 1000) -> int:
    """Load people in batches, each in its own transaction; returns rows written."""
    written = 0
    batch: list[SynthPerson] = []
    for synth in people:
        batch.append(synth)
        if len(batch) >= batch_size:
            written += load_batch(batch, today)
            batch = []
    if batch:
        written += load_batch(batch, today)
    return written
