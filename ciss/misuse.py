"""Signals of possible misuse for auditors, read from the audit log.

Every look at a person record and every search is an audit row, so the log already holds
what an auditor needs. Three signals over a window of days (the last 7 by default):

- **Unusual volume**: a user whose looks (record views and searches) in the window reach
  ``VOLUME_FACTOR`` times their own average for the same length of time over the four
  weeks before it, and at least ``VOLUME_MINIMUM``. A new user with no history is
  compared with nothing, so only the minimum applies.
- **Repeated looks**: a user who opened the same person's record ``REPEAT_MINIMUM``
  times or more in the window.
- **Same surname**: a user who opened the record of a person whose primary name or an
  alias carries the user's own surname, or a part of a compound one (compared without
  case or accents): the classic sign of looking up family.

A signal is a reason to ask, not a finding: the purpose each look gave is shown beside
it. Counting is done in Python over the window's rows (bounded by the window), with one
query per kind of row.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from ciss.associations import ASSOCIATIONS_VIEWED
from ciss.batch import BATCH_SEARCHED
from ciss.event_search import EVENTS_SEARCHED
from ciss.location_search import LOCATIONS_SEARCHED
from ciss.property_search import PROPERTY_SEARCHED
from ciss.search import PERSONS_SEARCHED
from ciss.vehicle_search import VEHICLES_SEARCHED
from obts.access import RECORD_VIEWED, purpose_label
from obts.matching import fold
from obts.models import PersonName
from portal.models import AuditEvent, User

# Every kind of look at records counts towards a user's volume.
LOOKS = (
    RECORD_VIEWED,
    PERSONS_SEARCHED,
    VEHICLES_SEARCHED,
    LOCATIONS_SEARCHED,
    PROPERTY_SEARCHED,
    EVENTS_SEARCHED,
    BATCH_SEARCHED,
    ASSOCIATIONS_VIEWED,
)
DEFAULT_DAYS = 7
MAX_DAYS = 90
BASELINE_DAYS = 28
VOLUME_FACTOR = 3
VOLUME_MINIMUM = 25
REPEAT_MINIMUM = 3


@dataclass
class VolumeSignal:
    user: str
    agency: str
    looks: int
    usual: float  # the user's average for a window this long, over the weeks before


@dataclass
class RepeatSignal:
    user: str
    agency: str
    person_id: str
    person: str
    looks: int
    purposes: list[str] = field(default_factory=list)


@dataclass
class SurnameSignal:
    user: str
    agency: str
    person_id: str
    person: str
    surname: str
    looks: int
    purposes: list[str] = field(default_factory=list)


@dataclass
class Signals:
    start: datetime
    end: datetime
    volume: list[VolumeSignal]
    repeats: list[RepeatSignal]
    surnames: list[SurnameSignal]


def surname_forms(last: str) -> set[str]:
    """A surname as compared here: the whole of it and each part of a compound one
    (García-López: GARCIALOPEZ, GARCIA, LOPEZ), folded; parts under three letters (De,
    La) are left out."""
    forms = {fold(last)} if fold(last) else set()
    forms |= {fold(part) for part in re.split(r"[-\s]+", last) if len(fold(part)) >= 3}
    return forms


def signals(days: int = DEFAULT_DAYS, *, now: datetime | None = None) -> Signals:
    """The three signals over the ``days`` before ``now``."""
    end = now or timezone.now()
    start = end - timedelta(days=days)
    baseline_start = start - timedelta(days=BASELINE_DAYS)
    events = list(
        AuditEvent.objects.filter(
            action__in=LOOKS,
            actor__isnull=False,
            occurred_at__gte=baseline_start,
            occurred_at__lt=end,
        )
        .select_related("agency")
        .values_list(
            "actor_id",
            "actor_username",
            "agency__name",
            "action",
            "object_id",
            "occurred_at",
            "details",
        )
    )
    users: dict[int, tuple[str, str]] = {}
    window: Counter[int] = Counter()
    before: Counter[int] = Counter()
    views: dict[tuple[int, str], list[str]] = defaultdict(list)
    for actor_id, username, agency, action, object_id, occurred_at, details in events:
        users[actor_id] = (username, agency or "—")
        if occurred_at < start:
            before[actor_id] += 1
            continue
        window[actor_id] += 1
        if action == RECORD_VIEWED and object_id:
            purpose = details.get("purpose") if isinstance(details, dict) else None
            views[(actor_id, object_id)].append(purpose_label(purpose))

    scale = days / BASELINE_DAYS
    volume = [
        VolumeSignal(
            user=users[actor][0], agency=users[actor][1], looks=count, usual=before[actor] * scale
        )
        for actor, count in window.items()
        if count >= VOLUME_MINIMUM and count >= VOLUME_FACTOR * before[actor] * scale
    ]
    volume.sort(key=lambda signal: (-signal.looks, signal.user))

    names = _names({object_id for _, object_id in views})
    repeats = [
        RepeatSignal(
            user=users[actor][0],
            agency=users[actor][1],
            person_id=object_id,
            person=names.get(object_id, ("Unknown person", set()))[0],
            looks=len(purposes),
            purposes=sorted(set(purposes)),
        )
        for (actor, object_id), purposes in views.items()
        if len(purposes) >= REPEAT_MINIMUM
    ]
    repeats.sort(key=lambda signal: (-signal.looks, signal.user, signal.person))

    surnames_of_users = {
        user.pk: (user.last_name, surname_forms(user.last_name))
        for user in User.objects.filter(pk__in=list(window)).only("pk", "last_name")
        if surname_forms(user.last_name)
    }
    surnames = []
    for (actor, object_id), purposes in views.items():
        if actor not in surnames_of_users or object_id not in names:
            continue
        surname, forms = surnames_of_users[actor]
        person, person_surnames = names[object_id]
        if forms & person_surnames:
            surnames.append(
                SurnameSignal(
                    user=users[actor][0],
                    agency=users[actor][1],
                    person_id=object_id,
                    person=person,
                    surname=surname,
                    looks=len(purposes),
                    purposes=sorted(set(purposes)),
                )
            )
    surnames.sort(key=lambda signal: (signal.user, signal.person))
    return Signals(start=start, end=end, volume=volume, repeats=repeats, surnames=surnames)


def _names(public_ids: set[str]) -> dict[str, tuple[str, set[str]]]:
    """For each person (by public id): the primary name, and the folded surnames of every
    name (primary and aliases). One query."""
    found: dict[str, tuple[str, set[str]]] = {}
    rows = PersonName.objects.filter(person__public_id__in=list(public_ids)).values_list(
        "person__public_id", "is_primary", "first_name", "last_name"
    )
    for public_id, is_primary, first, last in rows:
        key = str(public_id)
        shown, surnames = found.get(key, ("", set()))
        if is_primary or not shown:
            shown = f"{first} {last}".strip()
        surnames |= surname_forms(last)
        found[key] = (shown, surnames)
    return found
