"""Recomputing the status and flags of the persons an intake touched, once each."""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from obts import rows_once
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
    grouped: dict[type[Model], dict[int, list[Any]]] = {}
    for model, records in zip(
        RECORD_MODELS, rows_once.read(_PARTS, [pks] * len(_PARTS)), strict=True
    ):
        grouped[model] = defaultdict(list)
        for record in records:
            grouped[model][record.person_id].append(record)
    return grouped


_PARTS = tuple(
    rows_once.Part(model, "r.person_id = ANY(%s)", "bigint[]") for model in RECORD_MODELS
)
