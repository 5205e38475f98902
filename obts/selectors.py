"""Reads of OBTS records: a person's whole record in a fixed number of queries, and the
timeline built from it.

What a reader may see is decided in ``obts.access``; these functions take the result
(``Visibility``) and never load what it excludes, so a hidden record cannot leak through
a template or a serializer.
"""

import functools
import inspect
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict

from django.db import connection, models
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.manager import BaseManager
from django.http import Http404

from obts import rows_once
from obts.models import (
    Address,
    Case,
    Charge,
    CustodyPeriod,
    Infraction,
    Person,
    PersonIdentifier,
    PersonName,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    Warrant,
)
from obts.models.base import SourceRecord
from obts.timecalc import describe_term
from portal.plain_rows import row_by

# Merges of merges are followed this far at most (a longer chain is a data error).
MAX_MERGE_HOPS = 10


@dataclass(frozen=True)
class Visibility:
    """Which categories of a person's records a reader may see.

    ``juvenile`` and ``sealed`` decide whether juvenile and sealed cases (and their
    charges and sentences) are loaded at all; ``criminal_history`` whether cases,
    sentences, custody, supervision and infractions are shown; ``registry`` whether
    registration details are shown. Cases, custody, supervision and registrations are
    loaded regardless of the last two because flags and status are computed from them.
    """

    criminal_history: bool = False
    juvenile: bool = False
    sealed: bool = False
    registry: bool = False

    @property
    def hidden_key(self) -> str:
        """Which kinds of case this reader may not see: "" none, "j" juvenile, "s"
        sealed, "js" both (the keys of ``Person.restricted_views``)."""
        return ("" if self.juvenile else "j") + ("" if self.sealed else "s")

    def case_filter(self, prefix: str = "") -> Q:
        condition = Q()
        if not self.juvenile:
            condition &= Q(**{f"{prefix}is_juvenile": False})
        if not self.sealed:
            condition &= Q(**{f"{prefix}is_sealed": False})
        return condition


@dataclass
class PersonRecord:
    """A person (the survivor, when the requested id was merged into another) and the
    records the reader's ``Visibility`` lets through."""

    person: Person
    requested_id: uuid.UUID
    visibility: Visibility
    names: list[PersonName]
    identifiers: list[PersonIdentifier]
    addresses: list[Address]
    cases: list[Case]
    sentences: list[Sentence]
    custody: list[CustodyPeriod]
    supervisions: list[Supervision]
    orders: list[ProtectiveOrder]
    warrants: list[Warrant]
    registrations: list[Registration]
    infractions: list[Infraction]
    merged_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def primary_name(self) -> PersonName | None:
        return next((name for name in self.names if name.is_primary), None) or next(
            iter(self.names), None
        )

    @property
    def aliases(self) -> list[PersonName]:
        primary = self.primary_name
        return [name for name in self.names if name is not primary]


def survivor_of(public_id: uuid.UUID) -> tuple[Person, list[uuid.UUID]]:
    """The person to show for ``public_id``, following merges to the survivor, and the
    public ids merged along the way. Raises Http404."""
    person = _person(public_id)
    if person is None:
        raise Http404("No person with this id.")
    merged: list[uuid.UUID] = []
    while person.merged_into_id is not None:
        merged.append(person.public_id)
        if len(merged) > MAX_MERGE_HOPS:
            raise Http404("This person was merged along a chain too long to follow.")
        person = Person.objects.get(pk=person.merged_into_id)
    return person, merged


def _person(public_id: uuid.UUID) -> Person | None:
    """The person row of ``public_id``. Every view of a record starts here, so the
    statement is written out: the ORM took longer to compile the look-up than the
    database to answer it (0.9 against 0.45 ms a view)."""
    person = row_by(Person, "public_id", public_id)
    assert person is None or isinstance(person, Person)  # noqa: S101  (Person's own row)
    return person


def person_record(
    public_id: uuid.UUID,
    visibility: Visibility,
    *,
    survivor: tuple[Person, list[uuid.UUID]] | None = None,
) -> PersonRecord:
    """The person with ``public_id`` — or, when it was merged into another, the survivor —
    with every record ``visibility`` allows, in a fixed number of queries: on PostgreSQL
    the person, then every record in one statement (``obts.rows_once``); elsewhere one
    query per record kind. Raises Http404 for an unknown id.

    Juvenile and sealed cases the reader may not see are excluded in the database, with
    their charges and sentences; they are never counted or returned. ``survivor`` is
    ``survivor_of(public_id)`` when the caller already has it.
    """
    person, merged_ids = survivor or survivor_of(public_id)
    if connection.vendor == "postgresql":
        _load_once(person, visibility)
    else:
        _prefetch(person, visibility)
    return _record(person, public_id, visibility, merged_ids)


def _record(
    person: Person, public_id: uuid.UUID, visibility: Visibility, merged_ids: list[uuid.UUID]
) -> PersonRecord:
    """The record from the rows loaded into ``person``'s caches."""
    names = sorted(person.names.all(), key=lambda name: (not name.is_primary, name.pk))
    return PersonRecord(
        person=person,
        requested_id=public_id,
        visibility=visibility,
        names=names,
        identifiers=list(person.identifiers.all()),
        addresses=list(person.addresses.all()),
        cases=list(person.cases.all()),
        sentences=list(person.sentences.all()) if visibility.criminal_history else [],
        custody=list(person.custody_periods.all()),
        supervisions=list(person.supervisions.all()),
        orders=list(person.protective_orders.all()),
        warrants=list(person.warrants.all()),
        registrations=list(person.registrations.all()),
        infractions=list(person.infractions.all()) if visibility.criminal_history else [],
        merged_ids=merged_ids,
    )


# The person's rows every reader gets, by relation name (cases and what hangs on them
# depend on the reader's visibility).
_PLAIN_RELATIONS = (
    "names",
    "identifiers",
    "addresses",
    "custody_periods",
    "supervisions",
    "protective_orders",
    "warrants",
    "registrations",
)


def _prefetch(person: Person, visibility: Visibility) -> None:
    """The records through the ORM, one query per kind."""
    cases: QuerySet[Case] = Case.objects.filter(visibility.case_filter())
    prefetches: list[str | Prefetch[str, Any, str]] = list(_PLAIN_RELATIONS)
    if visibility.criminal_history:
        cases = cases.prefetch_related(Prefetch("charges", queryset=Charge.objects.all()))
        # An empty filter (a reader who may see every case) must not be OR-ed: Q() | Q(x)
        # is Q(x), which would keep only the sentences without a case.
        through_case = visibility.case_filter("case__")
        sentences = Sentence.objects.select_related("case")
        if through_case:
            sentences = sentences.filter(Q(case__isnull=True) | through_case)
        prefetches += [
            Prefetch("sentences", queryset=sentences),
            "infractions",
        ]
    prefetches.append(Prefetch("cases", queryset=cases))
    prefetch_related_objects([person], *prefetches)


def _load_once(person: Person, visibility: Visibility) -> None:
    """What ``_prefetch`` loads, in one statement (PostgreSQL), left where
    ``_prefetch`` leaves it: in the person's, the cases' and the sentences' caches."""
    relations, parts = _parts(visibility.criminal_history, visibility.juvenile, visibility.sealed)
    found = dict(zip(relations, rows_once.read(parts, [person.pk] * _params(parts)), strict=True))
    charges = found.pop("charges", None)
    for relation, records in found.items():
        _cache(person, relation, records)
    if charges is None:
        return
    by_case: dict[int, list[Charge]] = {case.pk: [] for case in found["cases"]}
    for charge in charges:
        by_case[charge.case_id].append(charge)
    for case in found["cases"]:
        _cache(case, "charges", by_case[case.pk])
    cases = {case.pk: case for case in found["cases"]}
    case_field = Sentence._meta.get_field("case")
    for sentence in found["sentences"]:
        if sentence.case_id is None:
            case_field.set_cached_value(sentence, None)
        elif sentence.case_id in cases:
            case_field.set_cached_value(sentence, cases[sentence.case_id])


def _cache(owner: models.Model, relation: str, records: list[Any]) -> None:
    """Leave ``records`` as the prefetched rows of ``owner.<relation>``, each pointing
    back at ``owner``, as ``prefetch_related_objects`` would."""
    plain = _plain_relation(type(owner), relation)
    if plain is None:
        manager = getattr(owner, relation)
        queryset = manager.all()
        back = manager.field
    else:
        # What the related manager's all() gives, built directly: a heavy record caches
        # some thirty relations, and the manager and the cloned query of each were a
        # thirteenth of a first view. The filter on the owner stays deferred, as the
        # manager defers it, until something asks the queryset for more than its rows.
        queryset_class, back = plain
        queryset = queryset_class(model=back.model, hints={"instance": owner})
        owner_id = getattr(owner, back.target_field.attname)
        # Django's own attributes for these (QuerySet._filter_or_exclude, RelatedManager).
        queryset._deferred_filter = (False, (), {back.name: owner})  # type: ignore[attr-defined]
        queryset._known_related_objects = {back: {owner_id: owner}}  # type: ignore[attr-defined]
    queryset._result_cache = records
    queryset._prefetch_done = True
    for record in records:
        back.set_cached_value(record, owner)
    prefetched = owner.__dict__.setdefault("_prefetched_objects_cache", {})
    prefetched[back.remote_field.cache_name] = queryset


@functools.cache
def _plain_relation(
    owner: type[models.Model], relation: str
) -> tuple[type[QuerySet[Any]], models.ForeignKey[Any, Any]] | None:
    """The queryset class and foreign key of ``owner.<relation>`` when its related
    manager's queryset is the plain one (the related model's default manager not
    overriding ``get_queryset``, so adding no filter of its own); None otherwise."""
    rel = getattr(owner, relation).rel
    manager = rel.related_model._default_manager
    if inspect.getattr_static(type(manager), "get_queryset") is not inspect.getattr_static(
        BaseManager, "get_queryset"
    ):
        return None
    field = rel.field
    if not isinstance(field, models.ForeignKey) or len(field.foreign_related_fields) != 1:
        return None
    return manager._queryset_class, field


def _params(parts: tuple[rows_once.Part, ...]) -> int:
    return sum(part.where.count("%s") for part in parts)


@functools.cache
def _parts(
    criminal_history: bool, juvenile: bool, sealed: bool
) -> tuple[tuple[str, ...], tuple[rows_once.Part, ...]]:
    """The relations a reader with these rights gets, and the statement's parts reading
    them; every ``%s`` is the person's id."""
    person_model = Person._meta
    hidden = ("" if juvenile else " AND NOT c.is_juvenile") + (
        "" if sealed else " AND NOT c.is_sealed"
    )
    visible = hidden.replace("c.", "r.")
    relations = list(_PLAIN_RELATIONS)
    parts = [
        rows_once.Part(person_model.get_field(name).related_model, "r.person_id = %s")  # type: ignore[arg-type]
        for name in relations
    ]
    relations.append("cases")
    parts.append(rows_once.Part(Case, "r.person_id = %s" + visible))
    if criminal_history:
        case = rows_once.table(Case)
        visible_cases = f"SELECT c.id FROM {case} c WHERE c.person_id = %s{hidden}"  # noqa: S608
        sentences = "r.person_id = %s"
        if hidden:
            # A sentence of a case the reader may not see is hidden with the case.
            sentences += (
                f" AND (r.case_id IS NULL OR EXISTS (SELECT 1 FROM {case} c"  # noqa: S608
                f" WHERE c.id = r.case_id{hidden}))"
            )
        relations += ["charges", "sentences", "infractions"]
        parts += [
            rows_once.Part(Charge, f"r.case_id IN ({visible_cases})"),
            rows_once.Part(Sentence, sentences),
            rows_once.Part(Infraction, "r.person_id = %s"),
        ]
    return tuple(relations), tuple(parts)


# ---------------------------------------------------------------------------------------
# Timeline


class TimelineEvent(TypedDict):
    date: date
    kind: str
    summary: str
    source_system: str
    as_of: datetime


# Same-day events read in the order things happen.
EVENT_KINDS = [
    "arrest",
    "warrant_issued",
    "warrant_served",
    "warrant_vacated",
    "custody_admitted",
    "arraignment",
    "order_issued",
    "charges_disposed",
    "sentence_imposed",
    "custody_released",
    "supervision_started",
    "supervision_violation",
    "supervision_ended",
    "registration",
    "infraction",
    "court_date",
    "order_expires",
]
_KIND_ORDER = {kind: index for index, kind in enumerate(EVENT_KINDS)}


def _event(day: date | None, kind: str, summary: str, record: SourceRecord) -> list[TimelineEvent]:
    if day is None:
        return []
    return [
        TimelineEvent(
            date=day,
            kind=kind,
            summary=summary,
            source_system=record.source_system,
            as_of=record.as_of,
        )
    ]


def _case_events(case: Case) -> list[TimelineEvent]:
    where = f" at {case.court_code}" if case.court_code else ""
    agency = f" by {case.arresting_agency_ori}" if case.arresting_agency_ori else ""
    events = [
        *_event(case.arrest_date, "arrest", f"Arrested{agency}, {case.reference}", case),
        *_event(
            case.arraignment_date,
            "arraignment",
            f"Arraigned{where}, {case.reference}",
            case,
        ),
        *_event(
            case.next_court_date,
            "court_date",
            f"Next court date{where}, {case.reference}",
            case,
        ),
    ]
    disposed: dict[date, list[Charge]] = {}
    for charge in case.charges.all():
        if charge.disposition_date is not None:
            disposed.setdefault(charge.disposition_date, []).append(charge)
    for day, charges in disposed.items():
        listed = "; ".join(f"{charge} — {charge.disposition or 'disposed'}" for charge in charges)
        events += _event(
            day,
            "charges_disposed",
            f"{case.reference.capitalize()}: {len(charges)} charge"
            f"{'' if len(charges) == 1 else 's'} disposed ({listed})",
            case,
        )
    return events


def _sentence_summary(sentence: Sentence) -> str:
    parts = []
    to_serve = sentence.incarceration_days - min(
        sentence.suspended_days, sentence.incarceration_days
    )
    if sentence.incarceration_days:
        parts.append(
            f"{describe_term(sentence.incarceration_days, sentence.imposed_on)} incarceration"
            + (f", {sentence.suspended_days:,} days suspended" if sentence.suspended_days else "")
        )
    if sentence.probation_days:
        parts.append(f"probation {sentence.probation_days:,} days")
    if sentence.conditional_discharge_days:
        parts.append(f"conditional discharge {sentence.conditional_discharge_days:,} days")
    if sentence.fine_amount:
        parts.append(f"fine ${sentence.fine_amount:,.2f}")
    if to_serve and sentence.max_release_on:
        parts.append(f"maximum release {sentence.max_release_on.isoformat()}")
    docket = f" on {sentence.case.reference}" if sentence.case else ""
    return f"Sentenced{docket}: " + ("; ".join(parts) or "no term recorded")


def _custody_events(period: CustodyPeriod) -> list[TimelineEvent]:
    kind = period.get_custody_status_display().lower()
    admitted = period.admission_type or "admitted"
    released = f" ({period.release_type})" if period.release_type else ""
    return [
        *_event(
            period.admitted_on,
            "custody_admitted",
            f"Admitted to {period.facility} ({kind}, {admitted})",
            period,
        ),
        *_event(
            period.released_on,
            "custody_released",
            f"Released from {period.facility}{released}",
            period,
        ),
    ]


def _supervision_events(supervision: Supervision) -> list[TimelineEvent]:
    label = supervision.get_kind_display()
    officer = f", officer {supervision.officer_name}" if supervision.officer_name else ""
    events = [
        *_event(
            supervision.start_date, "supervision_started", f"{label} started{officer}", supervision
        ),
        *_event(
            supervision.end_date,
            "supervision_ended",
            f"{label} ended ({supervision.get_status_display().lower()})",
            supervision,
        ),
    ]
    for day, description in _violations(supervision):
        events += _event(
            day, "supervision_violation", f"{label} violation: {description}", supervision
        )
    return events


def _infraction_events(infraction: Infraction) -> list[TimelineEvent]:
    what = infraction.description or infraction.statute or "offense not described"
    status = f" ({infraction.status})" if infraction.status else ""
    return _event(
        infraction.offense_date,
        "infraction",
        f"Infraction ticket {infraction.ticket_number}: {what}{status}",
        infraction,
    )


def _order_events(order: ProtectiveOrder) -> list[TimelineEvent]:
    what = f"{order.kind.capitalize()} order"
    court = f" by {order.issuing_court}" if order.issuing_court else ""
    return [
        *_event(order.issued_on, "order_issued", f"{what} issued{court}", order),
        *_event(order.expires_on, "order_expires", f"{what} expires", order),
    ]


def _warrant_events(warrant: Warrant) -> list[TimelineEvent]:
    what = f"{warrant.kind.capitalize()} warrant"
    if warrant.offense:
        what += f" ({warrant.offense})"
    court = f" by {warrant.court}" if warrant.court else ""
    return [
        *_event(warrant.issued_on, "warrant_issued", f"{what} issued{court}", warrant),
        *_event(warrant.served_on, "warrant_served", f"{what} served", warrant),
        *_event(warrant.vacated_on, "warrant_vacated", f"{what} vacated", warrant),
    ]


def _registration_events(registration: Registration) -> list[TimelineEvent]:
    return _event(
        registration.registered_on,
        "registration",
        f"Registered as a sex offender, term {registration.term}",
        registration,
    )


def person_timeline(record: PersonRecord) -> list[TimelineEvent]:
    """Every dated event of the records in ``record`` that its reader may see, oldest
    first (same-day events in the order they happen). Hidden records give no events:
    without the criminal-history claim only orders and warrants appear, and registrations
    only with the registry claim."""
    visibility = record.visibility
    events: list[TimelineEvent] = []
    if visibility.criminal_history:
        for case in record.cases:
            events += _case_events(case)
        for sentence in record.sentences:
            events += _event(
                sentence.imposed_on, "sentence_imposed", _sentence_summary(sentence), sentence
            )
        for period in record.custody:
            events += _custody_events(period)
        for supervision in record.supervisions:
            events += _supervision_events(supervision)
        for infraction in record.infractions:
            events += _infraction_events(infraction)
    for order in record.orders:
        events += _order_events(order)
    for warrant in record.warrants:
        events += _warrant_events(warrant)
    if visibility.registry:
        for registration in record.registrations:
            events += _registration_events(registration)
    return sorted(events, key=_event_order)


def _event_order(event: TimelineEvent) -> tuple[date, int, str]:
    return event["date"], _KIND_ORDER.get(event["kind"], len(_KIND_ORDER)), event["summary"]


def _violations(supervision: Supervision) -> Iterable[tuple[date, str]]:
    """The violations recorded on a supervision that carry a readable date."""
    parse: Callable[[str], date] = date.fromisoformat
    for item in supervision.violations or []:
        if not isinstance(item, dict):
            continue
        try:
            day = parse(str(item.get("date", "")))
        except ValueError:
            continue
        description = str(item.get("description") or "violation recorded")
        outcome = str(item.get("outcome") or "")
        yield day, description + (f" — {outcome}" if outcome else "")
