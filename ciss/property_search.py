"""Finding firearms and articles by serial number, or by make and model.

- A whole serial is compared by its key (``ciss.serials.serial_key``: capitals and digits,
  O and Q read as 0, I as 1), so ``ab-1234 5`` finds ``AB12345``.
- A partial serial uses ``*`` for any run of characters and ``?`` for exactly one
  (``AB12*``, ``*345``), with at least three known characters, as partial plates do.
- Otherwise ``make`` and ``model`` (each contained, ignoring case), narrowed by
  ``category``; a category alone is not a search, nor is a status.
- ``status`` narrows any of them (only stolen items, say).

Stolen items come first whatever matched: an officer holding a firearm must see at once
that it is reported stolen. Each result names the reporting agency, the incident it came
with, and the owner with the owner's flags.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from ciss.models import PropertyCategory, PropertyItem, PropertyStatus
from ciss.place_search import (
    DEFAULT_LIMIT,
    PersonSummary,
    PlaceQueryError,
    agency_names,
    check_limit,
    people_summaries,
    reader_visibility,
    record_search,
    unique,
)
from ciss.plates import wildcard_regex
from ciss.serials import serial_key
from obts.selectors import Visibility
from portal import audit
from portal.models import ApiClient, User

PROPERTY_SEARCHED = "ciss.search.property"
audit.register_actions({PROPERTY_SEARCHED: "CISS: property searched"})

WILDCARDS = "*?"
MIN_KNOWN = 3
SERIAL_MAX_LENGTH = 40
MAKE_MAX_LENGTH = 40
# How an item matched, best first.
EXACT_SERIAL = "serial number exactly"
FOLDED_SERIAL = "serial number, reading O as 0 and I as 1"
PARTIAL_SERIAL = "partial serial number"
MAKE_MODEL = "make and model"
MATCH_ORDER = (EXACT_SERIAL, FOLDED_SERIAL, PARTIAL_SERIAL, MAKE_MODEL)
PARAMETERS = ("serial", "category", "make", "model", "status")
NOTHING_TO_SEARCH = (
    "Nothing to search on: give a serial number (whole, or partial with *), or a make or "
    "model. A category or status alone is not a search."
)


@dataclass(frozen=True)
class PropertyQuery:
    """A validated property search; ``serial`` is in capitals and digits (with any
    wildcards), ``given`` the parameters as given (for the audit row)."""

    serial: str = ""
    category: str = ""
    make: str = ""
    model: str = ""
    status: str = ""
    limit: int = DEFAULT_LIMIT
    given: dict[str, str] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return any(char in WILDCARDS for char in self.serial)


@dataclass
class IncidentLink:
    """The incident report an item came with."""

    id: str
    incident_number: str
    agency_ori: str
    kind: str


@dataclass
class PropertyResult:
    """One item found: what it is, its status, who reported it, the incident it came with
    and its owner (with flags, when the owner is in the master name index)."""

    item: PropertyItem
    description: str
    agency_name: str
    incident: IncidentLink | None
    owner: PersonSummary | None
    matched: str

    @property
    def stolen(self) -> bool:
        return self.item.status == PropertyStatus.STOLEN


def describe_item(item: PropertyItem) -> str:
    """What the item is, in a few words: the reported description, or make, model and
    caliber, or the category."""
    if item.description:
        return item.description
    parts = (item.make, item.model, item.caliber)
    return " ".join(part for part in parts if part) or item.get_category_display()


def _choice(name: str, value: str, choices: list[tuple[str, str]]) -> str:
    code = value.strip().lower()
    if code and code not in {choice for choice, _label in choices}:
        allowed = ", ".join(choice for choice, _label in choices)
        raise PlaceQueryError(name, f"Use one of: {allowed}.")
    return code


def parse_query(
    *,
    serial: str = "",
    category: str = "",
    make: str = "",
    model: str = "",
    status: str = "",
    limit: int = DEFAULT_LIMIT,
) -> PropertyQuery:
    """Validate what was asked; raises :class:`PlaceQueryError`."""
    given = {"serial": serial, "category": category, "make": make, "model": model}
    given |= {"status": status}
    given = {name: value.strip() for name, value in given.items() if value.strip()}
    make, model = make.strip(), model.strip()
    if len(make) > MAKE_MAX_LENGTH or len(model) > MAKE_MAX_LENGTH:
        name = "make" if len(make) > MAKE_MAX_LENGTH else "model"
        raise PlaceQueryError(name, f"At most {MAKE_MAX_LENGTH} characters.")
    folded = ""
    if serial.strip():
        letters = re.sub(r"[^A-Z0-9*?]", "", serial.upper())
        known = sum(1 for char in letters if char not in WILDCARDS)
        if not known or len(letters) > SERIAL_MAX_LENGTH:
            raise PlaceQueryError(
                "serial", "A serial number has letters and digits, with * or ? for unknown ones."
            )
        if known < MIN_KNOWN and any(char in WILDCARDS for char in letters):
            raise PlaceQueryError(
                "serial", f"A partial serial number needs at least {MIN_KNOWN} known characters."
            )
        folded = letters
    query = PropertyQuery(
        serial=folded,
        category=_choice("category", category, PropertyCategory.choices),
        make=make,
        model=model,
        status=_choice("status", status, PropertyStatus.choices),
        limit=check_limit(limit),
        given=given,
    )
    if not (query.serial or query.make or query.model):
        raise PlaceQueryError(None, NOTHING_TO_SEARCH)
    return query


def _condition(query: PropertyQuery) -> Q:
    if query.serial and query.partial:
        condition = Q(serial_key__regex=wildcard_regex(query.serial, serial_key))
    elif query.serial:
        condition = Q(serial_key=serial_key(query.serial))
    else:
        condition = Q()
    if query.make:
        condition &= Q(make__icontains=query.make)
    if query.model:
        condition &= Q(model__icontains=query.model)
    if query.category:
        condition &= Q(category=query.category)
    if query.status:
        condition &= Q(status=query.status)
    return condition


def _matched(item: PropertyItem, query: PropertyQuery) -> str:
    if not query.serial:
        return MAKE_MODEL
    if query.partial:
        return PARTIAL_SERIAL
    typed = re.sub(r"[^A-Z0-9]", "", item.serial_number.upper())
    return EXACT_SERIAL if typed == query.serial else FOLDED_SERIAL


def search_property(
    query: PropertyQuery, *, visibility: Visibility, today: date | None = None
) -> list[PropertyResult]:
    """The items ``query`` describes, stolen first, then by how well they matched and
    newest status first; at most ``query.limit``. Stolen items are read first, so a full
    page never leaves a stolen item out for a recovered one. A fixed number of queries."""
    condition = _condition(query)
    related = PropertyItem.objects.select_related("incident")
    newest = ("-status_date", "-pk")
    stolen: list[PropertyItem] = []
    if query.status in ("", PropertyStatus.STOLEN):
        stolen = list(
            related.filter(condition, status=PropertyStatus.STOLEN).order_by(*newest)[: query.limit]
        )
    rest: list[PropertyItem] = []
    if query.status != PropertyStatus.STOLEN and len(stolen) < query.limit:
        rest = list(
            related.filter(condition)
            .exclude(status=PropertyStatus.STOLEN)
            .order_by(*newest)[: query.limit - len(stolen)]
        )
    items = stolen + rest
    owners = people_summaries(
        [item.person_id for item in items if item.person_id is not None],
        visibility,
        today or timezone.localdate(),
    )
    names = agency_names(item.agency_ori for item in items)
    results = [
        PropertyResult(
            item=item,
            description=describe_item(item),
            agency_name=names.get(item.agency_ori, ""),
            incident=_incident(item),
            owner=owners.get(item.person_id) if item.person_id is not None else None,
            matched=_matched(item, query),
        )
        for item in items
    ]
    # Sorting is stable: within stolen and not stolen, the newest status stays first.
    return sorted(results, key=lambda r: (not r.stolen, MATCH_ORDER.index(r.matched)))


def _incident(item: PropertyItem) -> IncidentLink | None:
    incident = item.incident
    if incident is None:
        return None
    return IncidentLink(
        id=str(incident.public_id),
        incident_number=incident.incident_number,
        agency_ori=incident.agency_ori,
        kind=incident.kind,
    )


@transaction.atomic
def property_search(
    query: PropertyQuery,
    *,
    purpose: str = "",
    api_client: ApiClient | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[PropertyResult]:
    """Run ``query`` for an agency's system (``api_client``) or a portal user (``actor``)
    and audit it: what was asked, why, and the items, owners and incidents shown. The
    audit row is written last, in the same transaction."""
    visibility = reader_visibility(api_client=api_client, actor=actor)
    results = search_property(query, visibility=visibility)
    record_search(
        PROPERTY_SEARCHED,
        object_type="ciss.propertyitem",
        query=query.given,
        purpose=purpose,
        shown={
            "property": [str(result.item.public_id) for result in results],
            "owners": unique(r.owner.id for r in results if r.owner is not None),
            "incidents": unique(r.incident.id for r in results if r.incident is not None),
        },
        count=len(results),
        api_client=api_client,
        actor=actor,
        request=request,
    )
    return results
