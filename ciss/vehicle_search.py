"""Finding registered vehicles by plate (whole or partial) or VIN.

- A whole plate is looked up by its folded key (``ciss.plates.plate_key``: O and Q read
  as 0, I as 1), so ``ABCI234`` finds ``ABC1234``; with a state, only that state's.
- A partial plate uses ``*`` for any run of characters and ``?`` for exactly one
  (``ABC*``, ``*1234``, ``A?C12?4``). It needs at least three known characters. On
  PostgreSQL an index of the characters at their places, alone and in pairs
  (``ciss.plates.plate_positions``, migration 0008), answers any pattern with a fixed
  start or end, narrowing a million plates to a handful; a trigram index (migration
  0002) answers the rest (``*12*``). Elsewhere the pattern is a scan.
- A VIN is exact (after removing spaces and dashes).

Results carry what an officer needs at a glance: registration status and expiry (an
expiry in the past reads "expired" whatever the source last sent), stolen, the
description, and the registered owner with the owner's flags.
"""

import functools
import operator
import re
from dataclasses import dataclass, field
from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import F, Func, Q, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone

from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import PLATE_MAX, normalize_vin, plate_key, wildcard_positions, wildcard_regex
from obts.access import API_VISIBILITY, visibility_for
from obts.models import Person
from obts.selectors import MAX_MERGE_HOPS, Visibility
from obts.services.matching import flags_as_seen
from portal import audit
from portal.models import ApiClient, User

WILDCARDS = "*?"
RESULT_ORDER = ("plate_state", "plate", "pk")
# More rows than a whole plate or a VIN could match: beyond it, the database orders them.
EXACT_CAP = 500
MIN_KNOWN = 3
MAX_LIMIT = 100
# What a vehicle's plate is indexed by (``ciss`` migration 0008), PostgreSQL only.
PLATE_POSITIONS = Func(
    Cast(F("plate_key"), TextField()),
    function="ciss_plate_positions",
    output_field=ArrayField(TextField()),
)
# How a vehicle matched, best first.
MATCH_ORDER = (
    "VIN",
    "plate exactly",
    "plate, reading O as 0 and I as 1",
    "partial plate",
)


class VehicleQueryError(ValueError):
    """A search that cannot be run, with the reason in words and the field to blame."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class VehicleQuery:
    plate: str = ""
    state: str = ""
    vin: str = ""
    limit: int = 10


@dataclass
class Owner:
    pk: int
    id: str
    name: str
    flags: list[str] = field(default_factory=list)


@dataclass
class VehicleResult:
    vehicle: Vehicle
    registration_status: str
    expired: bool
    owner: Owner | None
    matched: str  # how the plate or VIN matched, in words


def parse_query(plate: str = "", state: str = "", vin: str = "", limit: int = 10) -> VehicleQuery:
    """Validate what was asked; raises :class:`VehicleQueryError`."""
    plate, state, vin = plate.strip(), state.strip().upper(), normalize_vin(vin)
    if not plate and not vin:
        raise VehicleQueryError("plate", "Give a plate (whole or with * and ?) or a VIN.")
    if state and (len(state) != 2 or not state.isalpha()):
        raise VehicleQueryError("state", "Give the state as its two-letter code (CT, NY).")
    if plate:
        letters = re.sub(r"[\s\-.]", "", plate.upper())
        if not re.fullmatch(r"[A-Z0-9*?]+", letters) or len(letters) > PLATE_MAX + 4:
            raise VehicleQueryError(
                "plate", "A plate has letters and digits, with * or ? for unknown characters."
            )
        known = sum(1 for c in letters if c not in WILDCARDS)
        if known == len(letters) and known > PLATE_MAX:
            raise VehicleQueryError("plate", f"A plate has at most {PLATE_MAX} letters and digits.")
        if any(c in WILDCARDS for c in letters) and known < MIN_KNOWN:
            raise VehicleQueryError(
                "plate", f"A partial plate needs at least {MIN_KNOWN} known characters."
            )
        plate = letters
    if vin and (len(vin) != 17 or not vin.isalnum()):
        raise VehicleQueryError("vin", "A VIN has 17 letters and digits.")
    if not 1 <= limit <= MAX_LIMIT:
        raise VehicleQueryError("limit", f"limit is between 1 and {MAX_LIMIT}.")
    return VehicleQuery(plate=plate, state=state, vin=vin, limit=limit)


def search_vehicles(
    query: VehicleQuery, *, visibility: Visibility = API_VISIBILITY, today: date | None = None
) -> list[VehicleResult]:
    """The vehicles ``query`` describes, exact matches first, at most ``query.limit``.
    One query: the vehicles with their owners, whose flags are read as ``visibility``
    sees them (``Person.restricted_views``), as person search does; one more per merge
    hop only when an owner was merged into another person (shown as that person)."""
    today = today or timezone.localdate()
    partial = any(c in WILDCARDS for c in query.plate)
    conditions = [Q(vin=query.vin)] if query.vin else []
    if query.plate:
        if partial:
            by_plate = Q(plate_key__regex=wildcard_regex(query.plate, plate_key))
            positions = wildcard_positions(query.plate, plate_key)
            if positions and connection.vendor == "postgresql":
                by_plate &= Q(plate_positions__contains=positions)
        else:
            by_plate = Q(plate_key=plate_key(query.plate))
        if query.state:
            by_plate &= Q(plate_state=query.state)
        conditions.append(by_plate)
    if not conditions:
        return []
    # The owner only: joining the person an owner was merged into as well costs more to
    # compile than the rare merged owner costs to read after.
    vehicles_of = Vehicle.objects.select_related("person")
    if partial and connection.vendor == "postgresql":
        vehicles_of = vehicles_of.alias(plate_positions=PLATE_POSITIONS)
    found = vehicles_of.filter(functools.reduce(operator.or_, conditions))
    if partial:
        # A pattern may match many plates: the database orders them and returns a page.
        vehicles = list(found.order_by(*RESULT_ORDER)[: query.limit])
    else:
        # A whole plate or a VIN matches a handful of rows: ordering them here spares the
        # ORM compiling an ORDER BY, a good part of this lookup's time.
        vehicles = list(found[:EXACT_CAP])
        if len(vehicles) == EXACT_CAP:
            vehicles = list(found.order_by(*RESULT_ORDER)[: query.limit])
        vehicles = sorted(vehicles, key=lambda v: (v.plate_state, v.plate, v.pk))[: query.limit]
    survivors = _survivors(
        {
            vehicle.person.merged_into_id
            for vehicle in vehicles
            if vehicle.person is not None and vehicle.person.merged_into_id is not None
        }
    )
    owner_of: dict[int, Person] = {}
    for vehicle in vehicles:
        person = vehicle.person
        if person is not None:
            merged = person.merged_into_id
            owner_of[vehicle.pk] = survivors.get(merged, person) if merged else person
    owners = {owner.pk: owner for owner in owner_of.values()}
    seen = flags_as_seen(list(owners.values()), visibility, today)
    results = [
        _result(vehicle, owner_of.get(vehicle.pk), query, partial, today, seen)
        for vehicle in vehicles
    ]
    return sorted(results, key=lambda result: MATCH_ORDER.index(result.matched))


def _survivors(merged_into: set[int]) -> dict[int, Person]:
    """For each id an owner was merged into, the person that chain ends at (a merge of a
    merge is followed, up to ``MAX_MERGE_HOPS``): one query per hop."""
    loaded: dict[int, Person] = {}
    wanted = set(merged_into)
    for _ in range(MAX_MERGE_HOPS + 1):
        wanted -= loaded.keys()
        if not wanted:
            break
        loaded |= {person.pk: person for person in Person.objects.filter(pk__in=wanted)}
        wanted = {p.merged_into_id for p in loaded.values() if p.merged_into_id is not None}

    def end_of_chain(person: Person) -> Person:
        for _ in range(MAX_MERGE_HOPS):
            if person.merged_into_id is None or person.merged_into_id not in loaded:
                break
            person = loaded[person.merged_into_id]
        return person

    return {pk: end_of_chain(loaded[pk]) for pk in merged_into if pk in loaded}


def _result(
    vehicle: Vehicle,
    person: Person | None,
    query: VehicleQuery,
    partial: bool,
    today: date,
    seen: dict[int, tuple[list[str], str]],
) -> VehicleResult:
    if query.vin and vehicle.vin == query.vin:
        matched = MATCH_ORDER[0]
    elif partial:
        matched = MATCH_ORDER[3]
    elif vehicle.plate == query.plate:
        matched = MATCH_ORDER[1]
    else:
        matched = MATCH_ORDER[2]
    expired = vehicle.registration_expires is not None and vehicle.registration_expires < today
    status = vehicle.registration_status
    if expired and status == RegistrationStatus.VALID:
        status = RegistrationStatus.EXPIRED
    owner = None
    if person is not None:  # an owner merged into another person is the survivor
        owner = Owner(
            pk=person.pk,
            id=str(person.public_id),
            name=vehicle.owner_name,
            flags=list(seen[person.pk][0]) if person.pk in seen else [],
        )
    return VehicleResult(
        vehicle=vehicle, registration_status=status, expired=expired, owner=owner, matched=matched
    )


VEHICLES_SEARCHED = "ciss.search.vehicles"
audit.register_actions({VEHICLES_SEARCHED: "CISS: vehicles searched"})


@transaction.atomic
def vehicles_search(
    query: VehicleQuery,
    *,
    purpose: str = "",
    api_client: ApiClient | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[VehicleResult]:
    """Run ``query`` and audit it: what was asked, why, and the vehicles and owners shown.
    Owners' flags are as the API may serve them, or, for a portal user (``actor``), as the
    user's claims let them be seen. The audit row is written last, in the same
    transaction."""
    visibility = API_VISIBILITY if actor is None else visibility_for(actor)
    results = search_vehicles(query, visibility=visibility)
    asked = {"plate": query.plate, "state": query.state, "vin": query.vin}
    audit.record(
        VEHICLES_SEARCHED,
        actor=actor,
        request=request,
        api_client=api_client,
        object_type="ciss.vehicle",
        details={
            "query": {key: value for key, value in asked.items() if value},
            "purpose": purpose or "not stated",
            "count": len(results),
            "vehicles": [str(r.vehicle.public_id) for r in results],
            "owners": sorted({r.owner.id for r in results if r.owner is not None}),
        },
    )
    return results
