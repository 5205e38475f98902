"""A person's current status and flags, computed from their records.

Definitions (``RECENT`` is ``OBTS_RECENT_DAYS``, 30 days by default; "today" is the
portal's local date):

- ``wanted``: at least one warrant with status active.
- ``officer_caution``: the person carries an officer-safety caution.
- ``protective_order``: an order with status active that has not expired (no expiry, or
  expiry today or later) — the person is the respondent.
- ``sex_offender``: a registration that is not inactive and whose term has not ended.
- ``parole`` / ``probation``: an active supervision of that kind (special parole counts
  as parole).
- ``recently_arrested``: a case whose arrest date is within RECENT.
- ``recently_released``: a custody period released within RECENT, and not in custody now.
- ``pending_case``: a case with status pending.
- ``bail_conditions``: a pending case with a bail amount or release conditions.

Status, first that applies: incarcerated sentenced, incarcerated pretrial (an open
custody period of that kind), on parole, on probation, pretrial (pending cases),
released (was in custody, nothing active now), no active involvement.

Flags that depend on the date (recently..., expiries) are recomputed on every update of
the person and by a daily task. So are the status and flags a reader sees who may not
see the person's juvenile or sealed cases (``Person.restricted_views``,
:func:`compute_restricted_views`), so that a search shows them without reading records.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from obts.models import (
    Case,
    CaseStatus,
    ComplianceStatus,
    CustodyPeriod,
    CustodyStatus,
    Flag,
    OrderStatus,
    Person,
    PersonStatus,
    ProtectiveOrder,
    Registration,
    Supervision,
    SupervisionKind,
    SupervisionStatus,
    Warrant,
    WarrantStatus,
)

FLAG_ORDER = list(Flag.values)
RECORD_RELATIONS = (
    "cases",
    "custody_periods",
    "supervisions",
    "protective_orders",
    "warrants",
    "registrations",
)


@dataclass(frozen=True)
class Facts:
    """The records status and flags are computed from."""

    caution: str
    cases: list[Case]
    custody: list[CustodyPeriod]
    supervisions: list[Supervision]
    orders: list[ProtectiveOrder]
    warrants: list[Warrant]
    registrations: list[Registration]


def facts_for(person: Person) -> Facts:
    """The person's records: from the prefetch cache when the caller prefetched
    ``RECORD_RELATIONS``, otherwise one query each."""
    return Facts(
        caution=person.caution,
        cases=list(person.cases.all()),
        custody=list(person.custody_periods.all()),
        supervisions=list(person.supervisions.all()),
        orders=list(person.protective_orders.all()),
        warrants=list(person.warrants.all()),
        registrations=list(person.registrations.all()),
    )


def compute_flags(facts: Facts, today: date) -> list[str]:
    recent = today - timedelta(days=settings.OBTS_RECENT_DAYS)
    in_custody = any(period.released_on is None for period in facts.custody)
    active_supervision = {
        s.kind for s in facts.supervisions if s.status == SupervisionStatus.ACTIVE
    }
    pending = [case for case in facts.cases if case.status == CaseStatus.PENDING]
    flags = {
        Flag.WANTED: any(w.status == WarrantStatus.ACTIVE for w in facts.warrants),
        Flag.OFFICER_CAUTION: bool(facts.caution.strip()),
        Flag.PROTECTIVE_ORDER: any(
            order.status == OrderStatus.ACTIVE
            and (order.expires_on is None or order.expires_on >= today)
            for order in facts.orders
        ),
        Flag.SEX_OFFENDER: any(
            reg.compliance_status != ComplianceStatus.INACTIVE
            and (reg.term_ends_on is None or reg.term_ends_on >= today)
            for reg in facts.registrations
        ),
        Flag.PAROLE: bool(
            active_supervision & {SupervisionKind.PAROLE, SupervisionKind.SPECIAL_PAROLE}
        ),
        Flag.PROBATION: SupervisionKind.PROBATION in active_supervision,
        Flag.RECENTLY_ARRESTED: any(
            case.arrest_date is not None and recent <= case.arrest_date <= today
            for case in facts.cases
        ),
        Flag.RECENTLY_RELEASED: not in_custody
        and any(
            period.released_on is not None and recent <= period.released_on <= today
            for period in facts.custody
        ),
        Flag.PENDING_CASE: bool(pending),
        Flag.BAIL_CONDITIONS: any(
            case.bail_amount is not None or case.release_conditions.strip() for case in pending
        ),
    }
    return [flag for flag in FLAG_ORDER if flags[Flag(flag)]]


def compute_status(facts: Facts) -> str:
    open_custody = [period for period in facts.custody if period.released_on is None]
    active = {s.kind for s in facts.supervisions if s.status == SupervisionStatus.ACTIVE}
    if any(p.custody_status == CustodyStatus.SENTENCED for p in open_custody):
        return PersonStatus.INCARCERATED_SENTENCED
    if open_custody:
        return PersonStatus.INCARCERATED_PRETRIAL
    if active & {SupervisionKind.PAROLE, SupervisionKind.SPECIAL_PAROLE}:
        return PersonStatus.ON_PAROLE
    if SupervisionKind.PROBATION in active:
        return PersonStatus.ON_PROBATION
    if any(case.status == CaseStatus.PENDING for case in facts.cases):
        return PersonStatus.PRETRIAL
    if facts.custody:
        return PersonStatus.RELEASED
    return PersonStatus.NO_ACTIVE_INVOLVEMENT


# Which cases each key of ``Person.restricted_views`` hides.
RESTRICTED_KEYS: dict[str, tuple[bool, bool]] = {  # key: (hides juvenile, hides sealed)
    "j": (True, False),
    "s": (False, True),
    "js": (True, True),
}


def compute_restricted_views(facts: Facts, today: date) -> dict[str, list[Any]]:
    """``{key: [status, flags]}`` for each reader who may not see some of these cases
    (keys as ``RESTRICTED_KEYS``), computed from the cases that reader sees; a key is
    there only when it hides at least one case. Empty for a person without juvenile or
    sealed cases: every reader sees the stored status and flags."""
    views: dict[str, list[Any]] = {}
    if not any(case.is_juvenile or case.is_sealed for case in facts.cases):
        return views
    for key, (juvenile, sealed) in RESTRICTED_KEYS.items():
        seen = [
            case
            for case in facts.cases
            if not (juvenile and case.is_juvenile) and not (sealed and case.is_sealed)
        ]
        if len(seen) < len(facts.cases):
            restricted = replace(facts, cases=seen)
            views[key] = [compute_status(restricted), compute_flags(restricted, today)]
    return views


def _apply(person: Person, today: date) -> bool:
    facts = facts_for(person)
    status, flags = compute_status(facts), compute_flags(facts, today)
    views = compute_restricted_views(facts, today)
    if (status, flags, views) == (
        person.status,
        person.flags,
        person.restricted_views,
    ) and person.status_computed_at:
        return False
    person.status, person.flags, person.restricted_views = status, flags, views
    person.status_computed_at = timezone.now()
    person.save(
        update_fields=["status", "flags", "restricted_views", "status_computed_at", "updated_at"]
    )
    return True


def person_recompute(person: Person, *, today: date | None = None) -> bool:
    """Recompute and store the person's status and flags; True when they changed."""
    return _apply(person, today or timezone.localdate())


def persons_recompute_all(*, today: date | None = None, batch_size: int = 500) -> int:
    """Recompute every person not merged away (the daily task: "recently" and expiries
    move with the date). Returns how many changed."""
    today = today or timezone.localdate()
    ids = list(Person.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), batch_size):
        batch = Person.objects.filter(pk__in=ids[start : start + batch_size]).prefetch_related(
            *RECORD_RELATIONS
        )
        changed += sum(_apply(person, today) for person in batch)
    return changed
