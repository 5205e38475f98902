"""What the location, property and event searches share (``ciss.location_search``,
``ciss.property_search``, ``ciss.event_search``): the error a search cannot run with,
the limit, how the people on a result are named with their flags, agency names by ORI,
and the audit row every search writes.

People are shown as person search shows them: a person merged into another is shown as
the survivor, and flags are the stored ones unless the reader may not see one of the
person's cases (a sealed or juvenile case), in which case they are recomputed from what
the reader may see (``obts.services.matching.flags_as_seen``), so a hidden case never
shows through a ``pending_case`` flag.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.utils import timezone

from obts.access import API_VISIBILITY, visibility_for
from obts.models import Person, PersonName
from obts.selectors import Visibility
from obts.services.matching import flags_as_seen, in_flag_order
from portal import audit
from portal.models import Agency, ApiClient, User
from portal.models.api_clients import ApiScope

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


class PlaceQueryError(ValueError):
    """A search that cannot be run, with the reason in words and the field to blame
    (``None`` when it is about the search as a whole, such as nothing to search on)."""

    def __init__(self, field_name: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def check_limit(limit: int) -> int:
    """``limit`` when it is within 1 and ``MAX_LIMIT``; raises :class:`PlaceQueryError`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise PlaceQueryError("limit", f"limit is between 1 and {MAX_LIMIT}.")
    return limit


@dataclass
class PersonSummary:
    """A person in the master name index as a result names them: the survivor when merged,
    the primary name, the flags in display order (wanted first) as the reader may see
    them."""

    pk: int
    id: str
    name: str
    flags: list[str] = field(default_factory=list)


def people_summaries(
    person_ids: Iterable[int], visibility: Visibility, today: date | None = None
) -> dict[int, PersonSummary]:
    """Each of ``person_ids`` (merged or not) to its survivor's summary, flags as
    ``visibility`` sees them. Two queries (persons, names)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = list(Person.objects.filter(pk__in=ids).select_related("merged_into"))
    survivor_of = {person.pk: person.merged_into or person for person in rows}
    survivors = {person.pk: person for person in survivor_of.values()}
    names: dict[int, str] = {}
    for name in PersonName.objects.filter(person_id__in=survivors).order_by("-is_primary", "pk"):
        names.setdefault(name.person_id, str(name))
    summaries = {
        pk: PersonSummary(
            pk=pk,
            id=str(person.public_id),
            name=names.get(pk, ""),
            flags=in_flag_order(person.flags or []),
        )
        for pk, person in survivors.items()
    }
    seen = flags_as_seen(list(survivors.values()), visibility, today or timezone.localdate())
    for pk, (flags, _status) in seen.items():
        summaries[pk].flags = flags
    return {pk: summaries[survivor.pk] for pk, survivor in survivor_of.items()}


def agency_names(oris: Iterable[str]) -> dict[str, str]:
    """Agency names by ORI, for the ORIs the portal knows (one query)."""
    wanted = sorted({ori for ori in oris if ori})
    if not wanted:
        return {}
    return dict(Agency.objects.filter(ori__in=wanted).values_list("ori", "name"))


def reader_visibility(*, api_client: ApiClient | None, actor: User | None) -> Visibility:
    """What the searcher may see of people's records: an agency's system sees what the API
    serves, a portal user what their claims let through (``visibility_for`` refuses a
    user without a record role). Exactly one of the two must be given."""
    if (api_client is None) == (actor is None):
        raise ValueError("A search needs either api_client or actor, not both.")
    if actor is not None:
        return visibility_for(actor)
    return API_VISIBILITY


def client_reads_records(api_client: ApiClient) -> bool:
    """Whether an agency's system holds the ``records:read`` scope, the agency's grant of
    criminal history (``obts.access``)."""
    return api_client.has_scopes({ApiScope.RECORDS_READ})


def record_search(
    action: str,
    *,
    object_type: str,
    query: Mapping[str, str],
    purpose: str,
    shown: Mapping[str, list[str]],
    count: int,
    api_client: ApiClient | None,
    actor: User | None,
    request: HttpRequest | None,
) -> None:
    """The audit row of one search, as person and vehicle search write theirs: what was
    asked (without the purpose), why ("not stated" when no purpose was given), how many
    results and the ids of every record shown, by kind."""
    details: dict[str, Any] = {
        "query": {key: value for key, value in query.items() if value and key != "purpose"},
        "purpose": purpose or "not stated",
        "count": count,
    }
    details |= dict(shown)
    audit.record(
        action,
        actor=actor,
        request=request,
        api_client=api_client,
        object_type=object_type,
        details=details,
    )


def unique(values: Iterable[str]) -> list[str]:
    """``values`` without repeats or empties, in first-seen order (for audit lists)."""
    return list(dict.fromkeys(value for value in values if value))


def first_per_group(queryset: QuerySet[Any], group: list[str], order: list[Any], count: int) -> Any:
    """The first ``count`` rows of ``queryset`` for each value of the ``group`` fields in
    ``order``, numbered in the database (a window function), so a busy group cannot
    flood the answer; ordered by group, then rank."""
    rank = Window(RowNumber(), partition_by=[F(name) for name in group], order_by=order)
    return queryset.annotate(rank=rank).filter(rank__lte=count).order_by(*group, "rank")
