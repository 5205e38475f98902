"""Associations: what is linked to a person, vehicle, place, property item, event or
court case, and what is linked to those, as a small typed graph.

Nodes are records (``Kind``); a place is its normalised address key (``obts.addresses``),
because person addresses carry only the key and incidents a ``Location`` row with it.
Edges carry the role the record gives the link ("suspect", "resides at") and the source
system that said so. The links followed:

- person and place (an address: "resides at", or "resided at" once its end date is past)
- person and vehicle (registered owner), person and property item (owner)
- person and event (the role in the incident report), person and court case (defendant)
- event and place, event and vehicle (the role in the report), event and property item
- property item and place (where it was stolen from, found, recovered)
- court case and event (same incident number and arresting agency ORI)

The walk is breadth first and bounded twice, so a busy address cannot blow up a page:
each record follows at most ``per_node_limit`` links of each kind (newest first), and no
more than ``node_cap`` records are collected. Either cut sets ``truncated``, and the
records whose links were cut are marked ``more``.

Each hop costs one query per link kind for the whole frontier (a window function keeps
``per_node_limit + 1`` rows per record in the database), and the labels one query per
record kind at the end: the number of queries does not grow with the number of links.

Court cases are criminal history: they are followed only when ``visibility`` allows it,
and juvenile or sealed cases only with their own claims, as on the person record. Persons
merged into another are shown as the person they were merged into.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from ciss.models import (
    Incident,
    IncidentPerson,
    IncidentRole,
    IncidentVehicle,
    Location,
    PropertyItem,
    PropertyStatus,
    Vehicle,
    VehicleRole,
)
from ciss.place_search import first_per_group
from obts.addresses import typed_location_key
from obts.models import Address, Case, Flag, Person, PersonName
from obts.selectors import MAX_MERGE_HOPS, Visibility
from portal import audit
from portal.models import ApiClient, User

DEFAULT_HOPS = 2
MAX_HOPS = 2
PER_NODE_LIMIT = 25
NODE_CAP = 150
# Off-file people and vehicles listed on an event before "and N more".
MAX_NAMED = 20

ASSOCIATIONS_VIEWED = "ciss.associations.viewed"
audit.register_actions({ASSOCIATIONS_VIEWED: "CISS: associations viewed"})


class Kind(models.TextChoices):
    """The kinds of record a graph holds, in the order a page lists them."""

    PERSON = "person", "People"
    LOCATION = "location", "Addresses"
    VEHICLE = "vehicle", "Vehicles"
    INCIDENT = "incident", "Events"
    PROPERTY = "property", "Property"
    CASE = "case", "Court cases"


# Where property is tied to the place on its report, by the item's status.
PLACE_ROLES: dict[str, str] = {
    PropertyStatus.STOLEN: "stolen from",
    PropertyStatus.RECOVERED: "recovered at",
    PropertyStatus.FOUND: "found at",
    PropertyStatus.SEIZED: "seized at",
    PropertyStatus.EVIDENCE: "taken as evidence at",
}
DEFAULT_PLACE_ROLE = "place on the report"

RESIDES_AT = "resides at"
RESIDED_AT = "resided at"
REGISTERED_OWNER = "registered owner"
OWNER = "owner"
OCCURRED_AT = "occurred at"
DEFENDANT = "defendant"
CASE_OF_INCIDENT = "court case of"


class UnknownKind(ValueError):
    """The kind asked for is not one a graph can start from."""


# (kind, primary key), or (Kind.LOCATION, address key).
Key = tuple[str, Any]


@dataclass(frozen=True)
class Ref:
    """Which record an edge end is: its kind and its public id (a place: its key)."""

    kind: str
    id: str


@dataclass(frozen=True)
class Node:
    """One record of the graph, as pages and the API show it. ``id`` is the public id (the
    address key for a place); ``distance`` the number of links from the start; ``more``
    that the record has links the walk did not follow (its fan-out was cut)."""

    kind: str
    id: str
    label: str
    detail: str
    flags: tuple[str, ...]
    distance: int
    more: bool = False
    # An event's people and vehicles that match no record on file, as the report names
    # them ("Dana Doe (witness)", "CT 7XY123 (suspect vehicle)"): not nodes, since there
    # is nothing to follow from them, but part of what the event links.
    named: tuple[str, ...] = ()

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.id)

    @property
    def wanted(self) -> bool:
        return Flag.WANTED in self.flags


@dataclass(frozen=True)
class Edge:
    """A link between two records: ``role`` as the source system gave it, read from
    ``source`` to ``target`` ("Jordan Doe — resides at — 12 MAIN ST")."""

    source: Ref
    target: Ref
    role: str
    source_system: str


@dataclass(frozen=True)
class Associations:
    """The graph around ``start``: ``nodes`` begins with the start, then nearer records
    first; ``truncated`` when a record's links or the whole picture were cut."""

    start: Node
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool
    node_cap: int
    per_node_limit: int
    start_object: models.Model | None
    requested_id: str
    merged_ids: list[uuid.UUID] = field(default_factory=list)

    def linked(self) -> list[Node]:
        return [node for node in self.nodes if node.distance > 0]

    def shown(self) -> dict[str, list[str]]:
        """The ids of the linked records shown, by kind (for the audit row)."""
        shown: dict[str, list[str]] = {}
        for node in self.linked():
            shown.setdefault(node.kind, []).append(node.id)
        return shown


@dataclass
class _Link:
    a: Key
    b: Key
    role: str
    source_system: str


@dataclass
class _Walk:
    """The state of one breadth-first walk."""

    visibility: Visibility
    per_node_limit: int
    node_cap: int
    today: date
    distance: dict[Key, int] = field(default_factory=dict)
    links: dict[tuple[Key, Key, str, str], _Link] = field(default_factory=dict)
    cut: set[Key] = field(default_factory=set)
    truncated: bool = False


# What labels a node: (public id, label, detail, flags).
_Label = tuple[str, str, str, tuple[str, ...]]
# A candidate link found from a frontier record: (frontier key, neighbour key, link).
_Found = list[tuple[Key, Key, _Link]]


def _capped(queryset: QuerySet[Any], partition: list[str], order: list[Any], limit: int) -> Any:
    """``queryset`` with at most ``limit + 1`` rows per partition (the extra row tells
    the caller there were more)."""
    return first_per_group(queryset, partition, order, limit + 1)


def _pairs_q(pairs: Iterable[tuple[str, str]], number: str, ori: str) -> Q | None:
    conditions = [Q(**{number: value, ori: agency}) for value, agency in pairs if value]
    return reduce(or_, conditions) if conditions else None


# ---------------------------------------------------------------------------------------
# Persons merged into others


def _survivors(pks: Iterable[int]) -> dict[int, int]:
    """Each person pk mapped to the person it was (eventually) merged into, or itself."""
    mapping = {pk: pk for pk in pks}
    pending = set(mapping)
    for _ in range(MAX_MERGE_HOPS + 1):
        if not pending:
            break
        merged = dict(
            Person.objects.filter(pk__in=pending, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )
        for raw, current in mapping.items():
            if current in merged and merged[current] is not None:
                mapping[raw] = merged[current]
        pending = {value for value in merged.values() if value is not None}
    return mapping


def _absorbed(pks: Iterable[int]) -> dict[int, int]:
    """The persons whose records count as each of ``pks``: itself and those merged into
    it (records a merge did not move still belong to the survivor)."""
    mapping = {pk: pk for pk in pks}
    pending = set(mapping)
    for _ in range(MAX_MERGE_HOPS + 1):
        if not pending:
            break
        rows = list(
            Person.objects.filter(merged_into_id__in=pending).values_list("pk", "merged_into_id")
        )
        pending = set()
        for raw, into in rows:
            if raw not in mapping and into is not None:
                mapping[raw] = mapping[into]
                pending.add(raw)
    return mapping


# ---------------------------------------------------------------------------------------
# One hop, by the kind of the frontier records


def _address_role(to_date: date | None, today: date) -> str:
    return RESIDES_AT if to_date is None or to_date >= today else RESIDED_AT


def _from_persons(walk: _Walk, pks: list[int]) -> _Found:
    owners = _absorbed(pks)
    raw = list(owners)
    limit = walk.per_node_limit
    found: _Found = []

    def person(raw_pk: int) -> Key:
        return (Kind.PERSON, owners[raw_pk])

    addresses = _capped(
        Address.objects.filter(person_id__in=raw).exclude(location_key=""),
        ["person_id"],
        [F("to_date").desc(nulls_first=True), F("pk").desc()],
        limit,
    ).values_list("person_id", "location_key", "to_date", "source__source_system")
    for person_pk, key, to_date, source in addresses:
        here = person(person_pk)
        there = (Kind.LOCATION, key)
        role = _address_role(to_date, walk.today)
        found.append((here, there, _Link(here, there, role, source or "")))

    vehicles = _capped(
        Vehicle.objects.filter(person_id__in=raw), ["person_id"], [F("pk").desc()], limit
    ).values_list("person_id", "pk", "source_system")
    for person_pk, pk, source in vehicles:
        here, there = person(person_pk), (Kind.VEHICLE, pk)
        found.append((here, there, _Link(here, there, REGISTERED_OWNER, source)))

    roles = _capped(
        IncidentPerson.objects.filter(person_id__in=raw),
        ["person_id"],
        [F("incident__occurred_at").desc(nulls_last=True), F("pk").desc()],
        limit,
    ).values_list("person_id", "incident_id", "role", "incident__source_system")
    for person_pk, incident_pk, role, source in roles:
        here, there = person(person_pk), (Kind.INCIDENT, incident_pk)
        found.append((here, there, _Link(here, there, _incident_role(role), source)))

    items = _capped(
        PropertyItem.objects.filter(person_id__in=raw), ["person_id"], [F("pk").desc()], limit
    ).values_list("person_id", "pk", "source_system")
    for person_pk, pk, source in items:
        here, there = person(person_pk), (Kind.PROPERTY, pk)
        found.append((here, there, _Link(here, there, OWNER, source)))

    if walk.visibility.criminal_history:
        cases = _capped(
            Case.objects.filter(walk.visibility.case_filter(), person_id__in=raw),
            ["person_id"],
            [F("arrest_date").desc(nulls_last=True), F("pk").desc()],
            limit,
        ).values_list("person_id", "pk", "source_system")
        for person_pk, pk, source in cases:
            here, there = person(person_pk), (Kind.CASE, pk)
            found.append((here, there, _Link(here, there, DEFENDANT, source)))
    return found


def _from_locations(walk: _Walk, keys: list[str]) -> _Found:
    limit = walk.per_node_limit
    found: _Found = []
    residents = _capped(
        Address.objects.filter(location_key__in=keys),
        ["location_key"],
        [F("to_date").desc(nulls_first=True), F("pk").desc()],
        limit,
    ).values_list("location_key", "person_id", "to_date", "source__source_system")
    for key, person_pk, to_date, source in residents:
        here, there = (Kind.LOCATION, key), (Kind.PERSON, person_pk)
        role = _address_role(to_date, walk.today)
        found.append((here, there, _Link(there, here, role, source or "")))

    incidents = _capped(
        Incident.objects.filter(location__key__in=keys),
        ["location_id"],
        [F("occurred_at").desc(nulls_last=True), F("pk").desc()],
        limit,
    ).values_list("location__key", "pk", "source_system")
    for key, pk, source in incidents:
        here, there = (Kind.LOCATION, key), (Kind.INCIDENT, pk)
        found.append((here, there, _Link(there, here, OCCURRED_AT, source)))

    items = _capped(
        PropertyItem.objects.filter(location__key__in=keys),
        ["location_id"],
        [F("pk").desc()],
        limit,
    ).values_list("location__key", "pk", "status", "source_system")
    for key, pk, status, source in items:
        here, there = (Kind.LOCATION, key), (Kind.PROPERTY, pk)
        role = PLACE_ROLES.get(status, DEFAULT_PLACE_ROLE)
        found.append((here, there, _Link(there, here, role, source)))
    return found


def _from_vehicles(walk: _Walk, pks: list[int]) -> _Found:
    found: _Found = []
    owners = Vehicle.objects.filter(pk__in=pks, person__isnull=False).values_list(
        "pk", "person_id", "source_system"
    )
    for pk, person_pk, source in owners:
        here, there = (Kind.VEHICLE, pk), (Kind.PERSON, person_pk)
        found.append((here, there, _Link(there, here, REGISTERED_OWNER, source)))

    reports = _capped(
        IncidentVehicle.objects.filter(vehicle_id__in=pks),
        ["vehicle_id"],
        [F("incident__occurred_at").desc(nulls_last=True), F("pk").desc()],
        walk.per_node_limit,
    ).values_list("vehicle_id", "incident_id", "role", "incident__source_system")
    for pk, incident_pk, role, source in reports:
        here, there = (Kind.VEHICLE, pk), (Kind.INCIDENT, incident_pk)
        found.append((here, there, _Link(there, here, _vehicle_role(role), source)))
    return found


def _from_incidents(walk: _Walk, pks: list[int]) -> _Found:
    limit = walk.per_node_limit
    found: _Found = []
    incidents = list(
        Incident.objects.filter(pk__in=pks).values_list(
            "pk", "location__key", "source_system", "incident_number", "agency_ori"
        )
    )
    for pk, key, source, _number, _ori in incidents:
        if key:
            here, there = (Kind.INCIDENT, pk), (Kind.LOCATION, key)
            found.append((here, there, _Link(here, there, OCCURRED_AT, source)))

    people = _capped(
        IncidentPerson.objects.filter(incident_id__in=pks, person__isnull=False),
        ["incident_id"],
        [F("pk")],
        limit,
    ).values_list("incident_id", "person_id", "role", "incident__source_system")
    for pk, person_pk, role, source in people:
        here, there = (Kind.INCIDENT, pk), (Kind.PERSON, person_pk)
        found.append((here, there, _Link(there, here, _incident_role(role), source)))

    vehicles = _capped(
        IncidentVehicle.objects.filter(incident_id__in=pks, vehicle__isnull=False),
        ["incident_id"],
        [F("pk")],
        limit,
    ).values_list("incident_id", "vehicle_id", "role", "incident__source_system")
    for pk, vehicle_pk, role, source in vehicles:
        here, there = (Kind.INCIDENT, pk), (Kind.VEHICLE, vehicle_pk)
        found.append((here, there, _Link(here, there, _vehicle_role(role), source)))

    items = _capped(
        PropertyItem.objects.filter(incident_id__in=pks), ["incident_id"], [F("pk")], limit
    ).values_list("incident_id", "pk", "status", "source_system")
    for pk, item_pk, status, source in items:
        here, there = (Kind.INCIDENT, pk), (Kind.PROPERTY, item_pk)
        found.append((here, there, _Link(here, there, _status_label(status), source)))

    if walk.visibility.criminal_history:
        by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
        for pk, _key, _source, number, ori in incidents:
            by_pair[(number, ori)].append(pk)
        pairs = _pairs_q(by_pair, "incident_number", "arresting_agency_ori")
        if pairs is not None:
            cases = _capped(
                Case.objects.filter(pairs, walk.visibility.case_filter()),
                ["incident_number", "arresting_agency_ori"],
                [F("pk").desc()],
                limit,
            ).values_list("incident_number", "arresting_agency_ori", "pk", "source_system")
            for number, ori, case_pk, source in cases:
                for pk in by_pair.get((number, ori), []):
                    here, there = (Kind.INCIDENT, pk), (Kind.CASE, case_pk)
                    found.append((here, there, _Link(there, here, CASE_OF_INCIDENT, source)))
    return found


def _from_property(walk: _Walk, pks: list[int]) -> _Found:
    found: _Found = []
    items = PropertyItem.objects.filter(pk__in=pks).values_list(
        "pk", "incident_id", "person_id", "location__key", "status", "source_system"
    )
    for pk, incident_pk, person_pk, key, status, source in items:
        here: Key = (Kind.PROPERTY, pk)
        there: Key
        if incident_pk is not None:
            there = (Kind.INCIDENT, incident_pk)
            found.append((here, there, _Link(there, here, _status_label(status), source)))
        if person_pk is not None:
            there = (Kind.PERSON, person_pk)
            found.append((here, there, _Link(there, here, OWNER, source)))
        if key:
            there = (Kind.LOCATION, key)
            role = PLACE_ROLES.get(status, DEFAULT_PLACE_ROLE)
            found.append((here, there, _Link(here, there, role, source)))
    return found


def _from_cases(walk: _Walk, pks: list[int]) -> _Found:
    found: _Found = []
    cases = list(
        Case.objects.filter(pk__in=pks).values_list(
            "pk", "person_id", "incident_number", "arresting_agency_ori", "source_system"
        )
    )
    by_pair: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for pk, person_pk, number, ori, source in cases:
        here, there = (Kind.CASE, pk), (Kind.PERSON, person_pk)
        found.append((here, there, _Link(there, here, DEFENDANT, source)))
        by_pair[(number, ori)].append((pk, source))
    pairs = _pairs_q(by_pair, "incident_number", "agency_ori")
    if pairs is not None:
        incidents = _capped(
            Incident.objects.filter(pairs),
            ["incident_number", "agency_ori"],
            [F("pk").desc()],
            walk.per_node_limit,
        ).values_list("incident_number", "agency_ori", "pk")
        for number, ori, incident_pk in incidents:
            for pk, source in by_pair.get((number, ori), []):
                here, there = (Kind.CASE, pk), (Kind.INCIDENT, incident_pk)
                found.append((here, there, _Link(here, there, CASE_OF_INCIDENT, source)))
    return found


_EXPANDERS: dict[str, Callable[[_Walk, list[Any]], _Found]] = {
    Kind.PERSON: _from_persons,
    Kind.LOCATION: _from_locations,
    Kind.VEHICLE: _from_vehicles,
    Kind.INCIDENT: _from_incidents,
    Kind.PROPERTY: _from_property,
    Kind.CASE: _from_cases,
}


def _incident_role(value: str) -> str:
    return str(IncidentRole(value).label).lower() if value in IncidentRole.values else value


def _vehicle_role(value: str) -> str:
    return str(VehicleRole(value).label).lower() if value in VehicleRole.values else value


def _status_label(value: str) -> str:
    return str(PropertyStatus(value).label).lower() if value in PropertyStatus.values else value


def _canonical_persons(found: _Found) -> _Found:
    """``found`` with every person replaced by the person it was merged into."""
    persons = {
        key[1]
        for _, neighbour, link in found
        for key in (neighbour, link.a, link.b)
        if key[0] == Kind.PERSON
    }
    if not persons:
        return found
    survivors = _survivors(persons)

    def canonical(key: Key) -> Key:
        return (Kind.PERSON, survivors[key[1]]) if key[0] == Kind.PERSON else key

    return [
        (
            canonical(here),
            canonical(there),
            _Link(canonical(link.a), canonical(link.b), link.role, link.source_system),
        )
        for here, there, link in found
    ]


def _hop(walk: _Walk, frontier: list[Key], distance: int) -> list[Key]:
    """Follow the links of every ``frontier`` record; the records reached for the first
    time, in the order found."""
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for kind, ident in frontier:
        by_kind[kind].append(ident)
    found: _Found = []
    for kind, idents in by_kind.items():
        found += _EXPANDERS[kind](walk, idents)
    found_from: dict[Key, _Found] = defaultdict(list)
    for here, there, link in _canonical_persons(found):
        if there != here:
            found_from[here].append((here, there, link))

    reached: list[Key] = []
    for here in frontier:
        per_kind: dict[str, int] = defaultdict(int)
        for _, there, link in found_from.get(here, []):
            per_kind[there[0]] += 1
            if per_kind[there[0]] > walk.per_node_limit:
                walk.cut.add(here)
                walk.truncated = True
                continue
            if there not in walk.distance:
                if len(walk.distance) >= walk.node_cap + 1:  # the start does not count
                    walk.truncated = True
                    continue
                walk.distance[there] = distance
                reached.append(there)
            walk.links.setdefault((link.a, link.b, link.role, link.source_system), link)
    return reached


# ---------------------------------------------------------------------------------------
# Labels


def _person_nodes(pks: list[int]) -> dict[int, _Label]:
    names = {
        name.person_id: name
        for name in PersonName.objects.filter(person_id__in=pks, is_primary=True).order_by("pk")
    }
    nodes: dict[int, _Label] = {}
    for pk, public_id, flags in Person.objects.filter(pk__in=pks).values_list(
        "pk", "public_id", "flags"
    ):
        name = names.get(pk)
        known = [flag for flag in Flag.values if flag in (flags or [])]
        nodes[pk] = (
            str(public_id),
            str(name) if name else "Name not recorded",
            f"born {name.dob.isoformat()}" if name and name.dob else "",
            tuple(known),
        )
    return nodes


def _vehicle_nodes(pks: list[int]) -> dict[int, _Label]:
    nodes: dict[int, _Label] = {}
    for vehicle in Vehicle.objects.filter(pk__in=pks):
        detail = vehicle.description()
        if vehicle.stolen:
            detail += " · reported stolen"
        nodes[vehicle.pk] = (str(vehicle.public_id), str(vehicle), detail, ())
    return nodes


def _named_off_file(pks: list[int]) -> dict[int, tuple[str, ...]]:
    """Per event, the people and vehicles its report names that match nothing on file
    (at most ``MAX_NAMED`` each, then how many more): two queries."""
    named: dict[int, list[str]] = defaultdict(list)
    people = IncidentPerson.objects.filter(incident_id__in=pks, person__isnull=True).order_by(
        "incident_id", "pk"
    )
    for who in people:
        name = who.name or "Unnamed person"
        named[who.incident_id].append(f"{name} ({_incident_role(who.role)})")
    vehicles = IncidentVehicle.objects.filter(incident_id__in=pks, vehicle__isnull=True).order_by(
        "incident_id", "pk"
    )
    for car in vehicles:
        plate = " ".join(part for part in (car.plate_state, car.plate) if part)
        what = plate or car.description or "Vehicle without a plate"
        named[car.incident_id].append(f"{what} ({_vehicle_role(car.role)})")
    return {
        pk: tuple(names[:MAX_NAMED])
        + ((f"and {len(names) - MAX_NAMED} more",) if len(names) > MAX_NAMED else ())
        for pk, names in named.items()
    }


def _incident_nodes(pks: list[int]) -> dict[int, _Label]:
    nodes: dict[int, _Label] = {}
    for incident in Incident.objects.filter(pk__in=pks):
        when = timezone.localtime(incident.occurred_at).date() if incident.occurred_at else None
        parts = [f"{incident.agency_ori} {incident.incident_number}"]
        if when:
            parts.append(when.isoformat())
        nodes[incident.pk] = (
            str(incident.public_id),
            incident.kind or "Incident",
            " · ".join(parts),
            (),
        )
    return nodes


def _property_nodes(pks: list[int]) -> dict[int, _Label]:
    nodes: dict[int, _Label] = {}
    for item in PropertyItem.objects.filter(pk__in=pks):
        nodes[item.pk] = (str(item.public_id), str(item), item.get_status_display(), ())
    return nodes


def _case_nodes(pks: list[int]) -> dict[int, _Label]:
    nodes: dict[int, _Label] = {}
    for case in Case.objects.filter(pk__in=pks):
        parts = [part for part in (case.court_code, case.get_status_display()) if part]
        if case.arrest_date:
            parts.append(f"arrested {case.arrest_date.isoformat()}")
        label = case.reference[0].upper() + case.reference[1:]
        nodes[case.pk] = (str(case.public_id), label, " · ".join(parts), ())
    return nodes


_LABELLERS: dict[str, Callable[[list[int]], dict[int, _Label]]] = {
    Kind.PERSON: _person_nodes,
    Kind.VEHICLE: _vehicle_nodes,
    Kind.INCIDENT: _incident_nodes,
    Kind.PROPERTY: _property_nodes,
    Kind.CASE: _case_nodes,
}


def _nodes(walk: _Walk) -> dict[Key, Node]:
    details: Mapping[Any, _Label]
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for kind, ident in walk.distance:
        by_kind[kind].append(ident)
    labelled: dict[Key, Node] = {}
    named = _named_off_file(by_kind[Kind.INCIDENT]) if by_kind.get(Kind.INCIDENT) else {}
    for kind, idents in by_kind.items():
        if kind == Kind.LOCATION:
            details = {key: (key, key, "", ()) for key in idents}
        else:
            details = _LABELLERS[kind](idents)
        for ident, (public, label, detail, flags) in details.items():
            key = (kind, ident)
            labelled[key] = Node(
                kind=kind,
                id=public,
                label=label,
                detail=detail,
                flags=flags,
                distance=walk.distance[key],
                more=key in walk.cut,
                named=named.get(ident, ()) if kind == Kind.INCIDENT else (),
            )
    return labelled


# ---------------------------------------------------------------------------------------
# The start


@dataclass(frozen=True)
class _Start:
    key: Key
    obj: models.Model | None
    requested_id: str
    merged_ids: list[uuid.UUID]


def _uuid(ident: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(ident)
    except ValueError:
        raise Http404(f"No {what} with the id {ident!r} is on file.") from None


def _start(kind: str, ident: str, visibility: Visibility) -> _Start:
    """The record to start from; Http404 when none has this id (or the reader may not know
    it exists), PermissionDenied when the reader may not see its kind at all."""
    ident = ident.strip()
    if kind == Kind.LOCATION:
        # The key the nodes carry, or an address as a person types it.
        for key in dict.fromkeys((ident, typed_location_key(ident))):
            place = Location.objects.filter(key=key).first()
            if key and (place is not None or Address.objects.filter(location_key=key).exists()):
                return _Start((Kind.LOCATION, key), place, ident, [])
        raise Http404(f"No address {ident!r} is on file.")
    if kind == Kind.PERSON:
        public_id = _uuid(ident, "person")
        person = Person.objects.filter(public_id=public_id).first()
        if person is None:
            raise Http404(f"No person with the id {ident} is on file.")
        merged: list[uuid.UUID] = []
        while person.merged_into_id is not None and len(merged) <= MAX_MERGE_HOPS:
            merged.append(person.public_id)
            person = Person.objects.get(pk=person.merged_into_id)
        return _Start((Kind.PERSON, person.pk), person, str(public_id), merged)
    models_by_kind: dict[str, tuple[type[models.Model], str]] = {
        Kind.VEHICLE: (Vehicle, "vehicle"),
        Kind.INCIDENT: (Incident, "event"),
        Kind.PROPERTY: (PropertyItem, "property item"),
        Kind.CASE: (Case, "court case"),
    }
    model, what = models_by_kind[kind]
    queryset = model._default_manager.all()
    if kind == Kind.CASE:
        if not visibility.criminal_history:
            raise PermissionDenied(
                "Court cases are criminal history: your claims do not include it."
            )
        queryset = queryset.filter(visibility.case_filter())
    found = queryset.filter(public_id=_uuid(ident, what)).first()
    if found is None:
        raise Http404(f"No {what} with the id {ident} is on file.")
    return _Start((kind, found.pk), found, ident, [])


def associations(
    kind: str,
    ident: str,
    *,
    visibility: Visibility,
    hops: int = DEFAULT_HOPS,
    per_node_limit: int = PER_NODE_LIMIT,
    node_cap: int = NODE_CAP,
    today: date | None = None,
) -> Associations:
    """The records linked to the ``kind`` record ``ident`` (a public id, or the address
    key of a place), up to ``hops`` links out (at most two).

    Raises UnknownKind for a kind that is not a ``Kind``, Http404 for an id not on file,
    PermissionDenied for a court case when ``visibility`` excludes criminal history.
    Nothing is audited here: the caller writes the audit row with its purpose.
    """
    if kind not in Kind.values:
        raise UnknownKind(kind)
    start = _start(kind, ident, visibility)
    walk = _Walk(
        visibility=visibility,
        per_node_limit=max(1, per_node_limit),
        node_cap=max(1, node_cap),
        today=today or timezone.localdate(),
    )
    walk.distance[start.key] = 0
    frontier = [start.key]
    for distance in range(1, max(0, min(hops, MAX_HOPS)) + 1):
        if not frontier:
            break
        frontier = _hop(walk, frontier, distance)

    labelled = _nodes(walk)
    ordered = sorted(
        labelled.values(),
        key=lambda node: (node.distance, list(Kind.values).index(node.kind), node.label),
    )
    edges = [
        Edge(
            source=labelled[link.a].ref,
            target=labelled[link.b].ref,
            role=link.role,
            source_system=link.source_system,
        )
        for link in walk.links.values()
        if link.a in labelled and link.b in labelled
    ]
    return Associations(
        start=labelled[start.key],
        nodes=ordered,
        edges=edges,
        truncated=walk.truncated,
        node_cap=walk.node_cap,
        per_node_limit=walk.per_node_limit,
        start_object=start.obj,
        requested_id=start.requested_id,
        merged_ids=start.merged_ids,
    )


def kind_label(kind: str) -> str:
    return str(Kind(kind).label) if kind in Kind.values else kind


def group_by_kind(nodes: Iterable[Node]) -> Mapping[str, list[Node]]:
    """Nodes by kind, in ``Kind`` order, kinds without nodes left out."""
    groups: dict[str, list[Node]] = {kind: [] for kind in Kind.values}
    for node in nodes:
        groups[node.kind].append(node)
    return {kind: rows for kind, rows in groups.items() if rows}


def associations_viewed(
    graph: Associations,
    *,
    purpose: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    api_client: ApiClient | None = None,
) -> None:
    """Write the audit row of one look at a graph: who, why, where it started and which
    linked records were shown."""
    start = graph.start
    details: dict[str, object] = {
        "purpose": purpose,
        "kind": start.kind,
        "id": start.id,
        "records": graph.shown(),
        "truncated": graph.truncated,
    }
    if graph.merged_ids:
        details["requested_id"] = graph.requested_id
        details["merged_ids"] = [str(value) for value in graph.merged_ids]
    # A place is named by its address key; its row (when there is one) has no public id.
    target = graph.start_object if start.kind != Kind.LOCATION else None
    audit.record(
        ASSOCIATIONS_VIEWED,
        actor=actor,
        request=request,
        api_client=api_client,
        target=target,
        object_type="" if target is not None else "ciss.location",
        object_id="" if target is not None else start.id,
        details=details,
    )
