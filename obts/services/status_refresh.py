"""Recomputing the status and flags of the persons an intake touched, once each."""

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from obts.models import (
    Case,
    CustodyPeriod,
    Person,
    ProtectiveOrder,
    Registration,
    Supervision,
    Warrant,
)
from obts.status import (
    RECORD_RELATIONS,
    Facts,
    compute_flags,
    compute_restricted_views,
    compute_status,
)


def persons_refresh(
    person_pks: Iterable[int], *, before: Callable[[list[Person]], None] | None = None
) -> None:
    """Lock the persons (in id order, so concurrent intakes cannot deadlock), run
    ``before`` on them (e.g. sentence dates), then recompute each one's status and flags
    from their records, read after the lock so no other intake's change is missed.

    This is ``obts.status.person_recompute`` for many persons at once: the facts of all of
    them read together (``records_by_person``), and one update per distinct (status,
    flags) result rather than one per person.

    The lock is ``FOR NO KEY UPDATE``: it waits for another intake recomputing the same
    person, but not for intakes that only insert records pointing at the person.
    """
    pks = sorted(set(person_pks))
    if not pks:
        return
    persons = list(Person.objects.select_for_update(no_key=True).filter(pk__in=pks).order_by("pk"))
    if before is not None:
        before(persons)
    records = records_by_person(pks)
    today, now = timezone.localdate(), timezone.now()
    changes: dict[tuple[str, tuple[str, ...], str], list[int]] = defaultdict(list)
    for person in persons:
        facts = Facts(
            caution=person.caution,
            cases=records[Case].get(person.pk, []),
            custody=records[CustodyPeriod].get(person.pk, []),
            supervisions=records[Supervision].get(person.pk, []),
            orders=records[ProtectiveOrder].get(person.pk, []),
            warrants=records[Warrant].get(person.pk, []),
            registrations=records[Registration].get(person.pk, []),
        )
        status, flags = compute_status(facts), compute_flags(facts, today)
        views = compute_restricted_views(facts, today)
        stored = (person.status, person.flags, person.restricted_views)
        if (status, flags, views) != stored or not person.status_computed_at:
            changes[(status, tuple(flags), json.dumps(views, sort_keys=True))].append(person.pk)
    for (new_status, new_flags, new_views), changed in changes.items():
        Person.objects.filter(pk__in=changed).update(
            status=new_status,
            flags=list(new_flags),
            restricted_views=json.loads(new_views),
            status_computed_at=now,
            updated_at=now,
        )


# The records status and flags are computed from (obts.status.Facts), by kind.
RECORD_MODELS: tuple[type[Model], ...] = tuple(
    Person._meta.get_field(name).related_model  # type: ignore[misc]
    for name in RECORD_RELATIONS
)


def records_by_person(pks: list[int]) -> dict[type[Model], dict[int, list[Any]]]:
    """The persons' records of each kind of ``RECORD_MODELS``, in each model's order. On
    PostgreSQL in one statement (every intake refreshes a status: six round trips and
    six compiled queries were a fifth of an arrest notice's time); elsewhere one query
    per kind."""
    if connection.vendor == "postgresql":
        return _read_once(pks)
    return {model: _by_person(model, pks) for model in RECORD_MODELS}


def _by_person(model: type[Model], pks: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for record in model._default_manager.filter(person_id__in=pks):
        grouped[record.person_id].append(record)  # type: ignore[attr-defined]
    return grouped


def _read_once(pks: list[int]) -> dict[type[Model], dict[int, list[Any]]]:
    grouped: dict[type[Model], dict[int, list[Any]]] = {
        model: defaultdict(list) for model in RECORD_MODELS
    }
    with connection.cursor() as cursor:
        cursor.execute(_union_sql(), [pks] * len(RECORD_MODELS))
        for kind, _, row in cursor.fetchall():
            model = RECORD_MODELS[kind]
            record = _instance(model, json.loads(row, parse_float=Decimal))
            grouped[model][record.person_id].append(record)  # type: ignore[attr-defined]
    return grouped


@functools.cache
def _union_sql() -> str:
    """Each kind's rows as JSON, numbered in the model's own order (``Meta.ordering``)."""
    quote = connection.ops.quote_name
    parts = []
    for kind, model in enumerate(RECORD_MODELS):
        columns = {field.name: str(field.column) for field in model._meta.concrete_fields}
        order = ", ".join(
            f"r.{quote(columns[name.lstrip('-')])}" + (" DESC" if name.startswith("-") else "")
            for name in model._meta.ordering or []
            if isinstance(name, str)
        )
        table = quote(model._meta.db_table)
        # Built from the models' own names; the persons' ids are parameters.
        parts.append(
            f"SELECT {kind} AS kind, row_number() OVER (ORDER BY {order or 'r.id'}) AS place, "  # noqa: S608
            f"row_to_json(r)::text FROM {table} r WHERE r.person_id = ANY(%s)"
        )
    return " UNION ALL ".join(parts) + " ORDER BY kind, place"


@functools.cache
def _fields(model: type[Model]) -> tuple[list[str], list[tuple[str, Field[Any, Any]]]]:
    fields = list(model._meta.concrete_fields)
    return [field.attname for field in fields], [(str(field.column), field) for field in fields]


def _instance(model: type[Model], data: dict[str, Any]) -> Model:
    """A model instance from its row as JSON, each value as the ORM would give it."""
    names, columns = _fields(model)
    values = [
        None if data[column] is None else field.to_python(data[column]) for column, field in columns
    ]
    return model.from_db(connection.alias, names, values)
