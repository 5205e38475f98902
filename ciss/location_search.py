"""Finding a place by its address: who lives there, what happened there, what property
was stolen from or found there.

The address is read by ``obts.addresses`` (``12 north main street apt 3`` and
``12 N MAIN ST #3`` are the same place) and compared with the keys that person addresses
(``obts.models.Address.location_key``) and incident places (``ciss.models.Location.key``)
carry. Matches come in three tiers, best first:

1. **same address** — the same street line (with its unit), in the city and state given;
2. **same building, other unit** — the same house number and street with another unit or
   none (when the address has a house number);
3. **similar street name** — the street name inside another address (other house numbers
   on the street); on PostgreSQL also the addresses most like the one typed, by trigram
   word similarity, which forgives a typo (both answered by the trigram GIN indexes
   ``address_location_trigram`` and ``location_key_trigram``). Other databases have no
   trigram index and compare with a plain ``LIKE``.

A city or state alone is not a search: there must be a street name of three characters
or more.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from ciss.models import Incident, Location, PropertyItem, PropertyStatus
from ciss.place_search import (
    DEFAULT_LIMIT,
    PersonSummary,
    PlaceQueryError,
    check_limit,
    first_per_group,
    people_summaries,
    reader_visibility,
    record_search,
    unique,
)
from ciss.property_search import describe_item
from obts.addresses import UNITS, NormalizedAddress, normalize_address
from obts.models import Address
from obts.selectors import Visibility
from portal import audit
from portal.models import ApiClient, User

LOCATIONS_SEARCHED = "ciss.search.locations"
audit.register_actions({LOCATIONS_SEARCHED: "CISS: locations searched"})

SAME_ADDRESS = "same address"
SAME_BUILDING = "same building, other unit"
SIMILAR_STREET = "similar street name"
MATCH_ORDER = (SAME_ADDRESS, SAME_BUILDING, SIMILAR_STREET)
MIN_STREET = 3
ADDRESS_MAX_LENGTH = 200
# At most this many keys are read per table for one building; a tower block has fewer.
BUILDING_CAP = 500
# How much of each place a result lists (the counts cover everything).
LATEST_INCIDENTS = 3
LISTED_PROPERTY = 5
LISTED_RESIDENTS = 10
PARAMETERS = ("address", "street", "city", "state")
NOTHING_TO_SEARCH = (
    "Nothing to search on: give an address (12 Main St Apt 3, Hartford) or a street, "
    "with a street name of three characters or more. A city or state alone is not a search."
)
STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "VI",
        "GU",
        "AS",
        "MP",
    ]
)
_STATE_TAIL = re.compile(
    r"^(?P<city>.*?)\s*\b(?P<state>[A-Za-z]{2})(?:\s+\d{5}(?:-\d{4})?)?$", re.DOTALL
)
_POSTAL_TAIL = re.compile(r"\s*\b\d{5}(?:-\d{4})?$")
_UNIT_WORDS = frozenset(UNITS.values())


class _WordSimilar(Func):
    """``needle <% haystack``: pg_trgm's word-similarity operator (a stretch of the stored
    key is like the text typed), which the trigram GIN indexes answer."""

    arg_joiner = " <%% "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class _WordSimilarity(Func):
    function = "word_similarity"
    output_field = FloatField()


@dataclass(frozen=True)
class LocationQuery:
    """A validated location search: the address as normalised, and the parameters as
    given (for the audit row)."""

    address: NormalizedAddress
    limit: int = DEFAULT_LIMIT
    given: dict[str, str] = field(default_factory=dict)


@dataclass
class IncidentBrief:
    """An incident at a place, as a location result lists it."""

    id: str
    incident_number: str
    agency_ori: str
    kind: str
    occurred_at: datetime | None
    status: str


@dataclass
class PropertyBrief:
    """An item stolen from, found or recovered at a place."""

    id: str
    category: str
    description: str
    status: str
    status_label: str


@dataclass
class LocationResult:
    """One place: its normalised address (``key`` is what links it elsewhere), why it
    matched, the people who have it as an address (the current ones named with flags),
    the incidents there (latest first) and the property there (stolen first)."""

    key: str
    address: str
    matched: str
    people_count: int = 0
    residents: list[PersonSummary] = field(default_factory=list)
    incident_count: int = 0
    incidents: list[IncidentBrief] = field(default_factory=list)
    property_count: int = 0
    items: list[PropertyBrief] = field(default_factory=list)

    @property
    def stolen_property(self) -> int:
        return sum(1 for item in self.items if item.status == PropertyStatus.STOLEN)


def split_address(text: str) -> tuple[str, str, str]:
    """The street line, city and state of a typed address: ``12 Main St Apt 3, Hartford,
    CT 06105`` gives ``("12 Main St Apt 3", "Hartford", "CT")``. The state is the last
    part's last word when it is a state's two-letter code; a ZIP code is dropped."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return "", "", ""
    line1, rest = parts[0], parts[1:]
    state = ""
    if rest:
        tail = _STATE_TAIL.match(rest[-1])
        if tail and tail["state"].upper() in STATES:
            state, rest[-1] = tail["state"].upper(), tail["city"]
        else:
            rest[-1] = _POSTAL_TAIL.sub("", rest[-1])
    return line1, " ".join(part for part in rest if part), state


def parse_query(
    *, address: str = "", street: str = "", city: str = "", state: str = "", limit: int = 10
) -> LocationQuery:
    """Validate what was asked; raises :class:`PlaceQueryError`. ``address`` is free text;
    ``street`` with ``city`` and ``state`` are the same in parts. ``city`` and ``state``
    narrow a free-text address that does not name them itself."""
    address, street, city, state = (value.strip() for value in (address, street, city, state))
    given = {"address": address, "street": street, "city": city, "state": state}
    given = {name: value for name, value in given.items() if value}
    if address and street:
        raise PlaceQueryError("street", "Give either address or street, not both.")
    if len(address) > ADDRESS_MAX_LENGTH or len(street) > ADDRESS_MAX_LENGTH:
        name = "address" if address else "street"
        raise PlaceQueryError(name, f"An address has at most {ADDRESS_MAX_LENGTH} characters.")
    if state and (len(state) != 2 or not state.isalpha()):
        raise PlaceQueryError("state", "Give the state as its two-letter code (CT, NY).")
    line1 = street
    if address:
        line1, typed_city, typed_state = split_address(address)
        city, state = typed_city or city, typed_state or state
    normalized = normalize_address(line1, "", city, state)
    if len(normalized.street_name.replace(" ", "")) < MIN_STREET:
        raise PlaceQueryError(None, NOTHING_TO_SEARCH)
    return LocationQuery(address=normalized, limit=check_limit(limit), given=given)


def _in_place(column: str, query: NormalizedAddress) -> Q:
    """Keys in the query's city and state, when given (keys end ``, CITY, ST``)."""
    condition = Q()
    if query.state:
        condition &= Q(**{f"{column}__endswith": f", {query.state}"})
    if query.city:
        condition &= Q(**{f"{column}__contains": f", {query.city},"}) | Q(
            **{f"{column}__endswith": f", {query.city}"}
        )
    return condition


def _near(column: str, query: NormalizedAddress) -> Q:
    """Keys on the street line asked for, and, with a house number, every key of the
    building (``12 N MAIN ST`` and ``12 N MAIN ST APT 5``; :func:`_tier` sorts them)."""
    if not query.street_number:
        line = query.street
        return Q(**{column: line}) | Q(**{f"{column}__startswith": f"{line}, "})
    building = f"{query.street_number} {query.street_name}"
    return (
        Q(**{column: building})
        | Q(**{f"{column}__startswith": f"{building}, "})
        | Q(**{f"{column}__startswith": f"{building} "})
    )


def _on_street(column: str, query: NormalizedAddress) -> Q:
    """Keys naming the street asked for, at the start or after a house number."""
    name = query.street_name
    return Q(**{f"{column}__startswith": name}) | Q(**{f"{column}__contains": f" {name}"})


def _street_part(key: str) -> str:
    return key.split(", ", 1)[0]


def _tier(key: str, query: NormalizedAddress) -> str | None:
    """Where ``key`` stands against the street line asked for, among the first two
    tiers; ``None`` when it is neither (another street that merely starts alike)."""
    street = _street_part(key)
    if street == query.street:
        return SAME_ADDRESS
    if not query.street_number:
        return None
    building = f"{query.street_number} {query.street_name}"
    if street == building:
        return SAME_BUILDING
    rest = street.removeprefix(f"{building} ")
    if rest != street and rest.split(" ", 1)[0] in _UNIT_WORDS:
        return SAME_BUILDING
    return None


def _distinct_keys(condition: Callable[[str], Q], cap: int) -> set[str]:
    """The keys meeting ``condition`` (built for a column name) in both tables that hold
    keys, at most ``cap`` from each."""
    found = set(
        Location.objects.filter(condition("key"))
        .order_by("key")
        .values_list("key", flat=True)[:cap]
    )
    # Address's default ordering would put from_date into the DISTINCT: order by the key.
    found |= set(
        Address.objects.filter(condition("location_key"))
        .order_by("location_key")
        .values_list("location_key", flat=True)
        .distinct()[:cap]
    )
    found.discard("")
    return found


def matching_keys(query: LocationQuery) -> list[tuple[str, str]]:
    """The keys found, each with why, best first, at most ``query.limit``."""
    wanted = query.address
    tiers: dict[str, str] = {}
    near = _distinct_keys(
        lambda column: _near(column, wanted) & _in_place(column, wanted), cap=BUILDING_CAP
    )
    for key in near:
        tier = _tier(key, wanted)
        if tier is not None:
            tiers[key] = tier
    ranked = sorted(tiers, key=lambda key: (MATCH_ORDER.index(tiers[key]), key))
    found = [(key, tiers[key]) for key in ranked[: query.limit]]
    room = query.limit - len(found)
    if room > 0:
        found += [(key, SIMILAR_STREET) for key in _similar(wanted, set(tiers), room)]
    return found


def _similar(wanted: NormalizedAddress, skip: set[str], room: int) -> list[str]:
    """Other addresses on a street of the same name, in order; then, on PostgreSQL and
    while there is room, those most like the street line typed (a typo, a wrong
    direction), most alike first. At most ``room``, none of ``skip``."""
    on_street = _distinct_keys(
        lambda column: _on_street(column, wanted) & _in_place(column, wanted),
        cap=room + len(skip),
    )
    found = sorted(on_street - skip)[:room]
    if connection.vendor != "postgresql" or len(found) >= room:
        return found
    skip = skip | on_street
    cap = room - len(found) + len(skip)
    text = Value(wanted.street)
    scores: dict[str, float] = {}
    for model, column in ((Location, "key"), (Address, "location_key")):
        rows = (
            model._default_manager.filter(
                Q(_WordSimilar(text, F(column))) & _in_place(column, wanted)
            )
            .order_by()
            .values_list(column)
            .annotate(score=_WordSimilarity(text, F(column)))
            .order_by("-score", column)
            .distinct()[:cap]
        )
        for key, score in rows:
            if key and key not in skip:
                scores[key] = max(score, scores.get(key, 0.0))
    return found + sorted(scores, key=lambda key: (-scores[key], key))[: room - len(found)]


def search_locations(
    query: LocationQuery, *, visibility: Visibility, today: date | None = None
) -> list[LocationResult]:
    """The places ``query`` describes, best match first, each with its people, incidents
    and property. A fixed number of queries, whatever the number of results."""
    today = today or timezone.localdate()
    found = matching_keys(query)
    if not found:
        return []
    results = {key: LocationResult(key=key, address=key, matched=why) for key, why in found}
    _add_people(results, visibility, today)
    _add_places(results)
    return list(results.values())


def _add_people(results: dict[str, LocationResult], visibility: Visibility, today: date) -> None:
    rows = list(
        Address.objects.filter(location_key__in=list(results))
        .order_by()
        .values_list("location_key", "person_id", "from_date", "to_date")
    )
    people = people_summaries({row[1] for row in rows}, visibility, today)
    everyone: dict[str, set[int]] = defaultdict(set)
    current: dict[str, set[int]] = defaultdict(set)
    for key, person_id, from_date, to_date in rows:
        survivor = people[person_id].pk
        everyone[key].add(survivor)
        if (to_date is None or to_date >= today) and (from_date is None or from_date <= today):
            current[key].add(survivor)
    by_pk = {summary.pk: summary for summary in people.values()}
    for key, result in results.items():
        result.people_count = len(everyone[key])
        residents = [by_pk[pk] for pk in current[key]]
        residents.sort(key=lambda person: (not person.flags, person.name, person.id))
        result.residents = residents[:LISTED_RESIDENTS]


def _count(model: type[Incident] | type[PropertyItem]) -> Coalesce:
    counted = (
        model.objects.filter(location=OuterRef("pk"))
        .order_by()
        .values("location")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _add_places(results: dict[str, LocationResult]) -> None:
    """The Location rows of the keys (with counts), their latest incidents and their
    property, stolen first: three queries."""
    locations = (
        Location.objects.filter(key__in=list(results))
        .annotate(incident_count=_count(Incident), property_count=_count(PropertyItem))
        .order_by()
    )
    key_of: dict[int, str] = {}
    for location in locations:
        result = results[location.key]
        key_of[location.pk] = location.key
        result.address = str(location)
        result.incident_count = location.incident_count
        result.property_count = location.property_count
    if not key_of:
        return
    incidents = first_per_group(
        Incident.objects.filter(location_id__in=list(key_of)),
        ["location_id"],
        [F("occurred_at").desc(nulls_last=True), F("pk").desc()],
        LATEST_INCIDENTS,
    )
    for incident in incidents:
        results[key_of[incident.location_id or 0]].incidents.append(
            IncidentBrief(
                id=str(incident.public_id),
                incident_number=incident.incident_number,
                agency_ori=incident.agency_ori,
                kind=incident.kind,
                occurred_at=incident.occurred_at,
                status=incident.status,
            )
        )
    stolen_first = Case(When(status=PropertyStatus.STOLEN, then=Value(0)), default=Value(1))
    items = first_per_group(
        PropertyItem.objects.filter(location_id__in=list(key_of)),
        ["location_id"],
        [stolen_first.asc(), F("status_date").desc(nulls_last=True), F("pk").desc()],
        LISTED_PROPERTY,
    )
    for item in items:
        results[key_of[item.location_id or 0]].items.append(
            PropertyBrief(
                id=str(item.public_id),
                category=item.get_category_display(),
                description=describe_item(item),
                status=item.status,
                status_label=item.get_status_display(),
            )
        )


@transaction.atomic
def locations_search(
    query: LocationQuery,
    *,
    purpose: str = "",
    api_client: ApiClient | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[LocationResult]:
    """Run ``query`` for an agency's system (``api_client``) or a portal user (``actor``)
    and audit it: what was asked, why, and the places, people, incidents and property
    shown. The audit row is written last, in the same transaction."""
    visibility = reader_visibility(api_client=api_client, actor=actor)
    results = search_locations(query, visibility=visibility)
    record_search(
        LOCATIONS_SEARCHED,
        object_type="ciss.location",
        query=query.given,
        purpose=purpose,
        shown={
            "locations": [result.key for result in results],
            "persons": unique(p.id for result in results for p in result.residents),
            "incidents": unique(i.id for result in results for i in result.incidents),
            "property": unique(p.id for result in results for p in result.items),
        },
        count=len(results),
        api_client=api_client,
        actor=actor,
        request=request,
    )
    return results
