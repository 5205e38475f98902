"""Subscriptions: a user follows a person, a plate or a case and is alerted when a new
exchange or feed record touches it (``ciss.models.subscriptions``).

This module holds what followers do — follow, stop (``unfollow``), renew, each audited in
its transaction — what the Following page reads, and how alerting is set off:

- exchange intake calls :func:`queue_exchange_alerts` once its transaction commits;
- feeds announce their applied records through ``obts.services.changes``, whose listener
  here is :func:`records_changed_listener` (registered in ``CissConfig.ready``).

Both queue a task with ids only (``ciss.subscription_tasks``); the alerts themselves and
every e-mail are made in ``ciss.subscription_alerts``. Neither ever fails the request
that set it off: with the broker down, the change is logged and its alerts are lost (the
records themselves are safe; followers see them on the record).

Who follows: the roles that open person records (``obts.access.RECORD_ROLES``). A case is
followed only by someone who may see it (criminal history, and the juvenile or sealed
claim for such a case): any other number is "not found".
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ciss.models import (
    Cadence,
    Delivery,
    Incident,
    IncidentPerson,
    IncidentVehicle,
    Subscription,
    SubscriptionAlert,
    SubscriptionKind,
    SubscriptionStatus,
    SubscriptionTransitionError,
    Vehicle,
)
from ciss.plates import normalize_plate, plate_key
from ciss.subscription_alerts import EXPIRED
from ciss.subscription_tasks import alert_exchange_followers, alert_record_followers
from obts.access import visibility_for
from obts.models import Case, Person
from obts.services.changes import RecordsChange
from portal import audit
from portal.models import User

logger = logging.getLogger(__name__)

FOLLOWED = "ciss.subscription.followed"
STOPPED = "ciss.subscription.stopped"
RENEWED = "ciss.subscription.renewed"
CADENCE_CHANGED = "ciss.subscription.cadence_changed"
ALERTS_VIEWED = "ciss.subscription.alerts_viewed"
RECENT_ALERTS = 50


class FollowRefused(Exception):
    """What was asked cannot be followed; the message says why, for the follower."""


class AlreadyFollowing(FollowRefused):
    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        until = timezone.localtime(subscription.expires_at).date().isoformat()
        super().__init__(
            f"You already follow {subscription.target_label}, until {until}. Renew it on "
            "the Following page to keep following it longer."
        )


# ---------------------------------------------------------------------------------------
# Following, stopping, renewing


def _lookup(kind: str, target: dict[str, Any]) -> Q:
    if kind == SubscriptionKind.PLATE:
        return Q(plate_key=target["plate_key"], plate_state=target["plate_state"])
    return Q(**{kind: target[kind]})


def _follow(
    *,
    user: User,
    kind: SubscriptionKind,
    target: dict[str, Any],
    cadence: str,
    details: dict[str, Any],
    request: Any,
) -> Subscription:
    """Create the subscription, unless the user already follows the same thing (one
    whose time ran out but that the expiry task has not ended yet is ended first)."""
    Cadence(cadence)  # a wrong cadence is a programming error: raise ValueError
    now = timezone.now()
    with transaction.atomic():
        current = (
            Subscription.objects.select_for_update(of=("self",))
            .filter(_lookup(kind, target), user=user, kind=kind, status=SubscriptionStatus.ACTIVE)
            .select_related("person", "case")
            .first()
        )
        if current is not None and current.expires_at > now:
            raise AlreadyFollowing(current)
        if current is not None:
            current.save(update_fields=current.apply("expire", now=now))
            audit.record(
                EXPIRED,
                object_type=Subscription._meta.label_lower,
                details={"subscriptions": [str(current.public_id)]},
            )
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    user=user, kind=kind, cadence=cadence, created_at=now, **target
                )
        except IntegrityError:  # the same follow, sent twice at once
            raced = Subscription.objects.filter(
                _lookup(kind, target), user=user, kind=kind, status=SubscriptionStatus.ACTIVE
            ).first()
            if raced is None:
                raise
            raise AlreadyFollowing(raced) from None
        audit.record(
            FOLLOWED,
            actor=user,
            request=request,
            target=subscription,
            details={"kind": str(kind), "cadence": cadence, **details},
        )
    return subscription


def follow_person(
    *, user: User, person: Person, cadence: str = Cadence.REALTIME, request: Any = None
) -> Subscription:
    """Follow ``person`` (give the survivor of a merge). Refuses (``PermissionDenied``) a
    user who may not open person records, and (``AlreadyFollowing``) a second follow."""
    visibility_for(user)
    return _follow(
        user=user,
        kind=SubscriptionKind.PERSON,
        target={"person": person},
        cadence=cadence,
        details={"person": str(person.public_id)},
        request=request,
    )


def plate_state(text: str) -> str:
    """A plate's state as stored: two capital letters. ValueError for anything else."""
    state = text.strip().upper()
    if len(state) != 2 or not state.isalpha():
        raise ValueError("Give the plate's state or province as its two-letter code (CT, NY).")
    return state


def follow_plate(
    *, user: User, plate: str, state: str, cadence: str = Cadence.REALTIME, request: Any = None
) -> Subscription:
    """Follow a plate, compared as vehicle search compares it (``ciss.plates``: ABC1234
    and ABCI234 are one plate). Refuses (``FollowRefused``) a plate or state that is not
    one, and a second follow."""
    visibility_for(user)
    try:
        shown, key, code = normalize_plate(plate), plate_key(plate), plate_state(state)
    except ValueError as error:
        raise FollowRefused(str(error)) from error
    return _follow(
        user=user,
        kind=SubscriptionKind.PLATE,
        target={"plate": shown, "plate_key": key, "plate_state": code},
        cadence=cadence,
        details={"plate": f"{code} {shown}"},
        request=request,
    )


def case_for_number(user: User, number: str) -> Case:
    """The case with this docket number, or else this incident number, among those
    ``user`` may see. Refuses (``FollowRefused``) without the criminal history claim, a
    number no visible case has, and an incident number several cases share."""
    visibility = visibility_for(user)
    if not visibility.criminal_history:
        raise FollowRefused("Following a case needs the criminal history claim.")
    number = number.strip()
    if not number:
        raise FollowRefused("Give a docket number or an incident number.")
    cases = Case.objects.filter(visibility.case_filter()).select_related("person")
    variants = {number, number.upper()}
    by_docket = list(cases.filter(docket_number__in=variants)[:2])
    found = by_docket or list(cases.filter(incident_number__in=variants)[:2])
    if not found:
        raise FollowRefused(f"No case you may see has the docket or incident number {number}.")
    if len(found) > 1:
        raise FollowRefused(
            f"Several cases have the number {number}: give the court's docket number instead."
        )
    return found[0]


def follow_case(
    *, user: User, number: str, cadence: str = Cadence.REALTIME, request: Any = None
) -> Subscription:
    """Follow the case with this docket or incident number (``case_for_number`` says
    which it refuses), once."""
    case = case_for_number(user, number)
    return _follow(
        user=user,
        kind=SubscriptionKind.CASE,
        target={"case": case},
        cadence=cadence,
        details={"case": str(case.public_id)},
        request=request,
    )


def access_subscription(
    user: User, public_id: uuid.UUID, *, for_update: bool = False
) -> Subscription:
    """The user's own subscription with this id; Http404 for any other (so an id does
    not reveal whether someone else follows something)."""
    queryset = Subscription.objects.select_related("person", "case")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    subscription = queryset.filter(public_id=public_id, user=user).first()
    if subscription is None:
        raise Http404("You follow nothing with this id.")
    return subscription


def _change(
    action: str, audit_action: str, *, subscription: Subscription, actor: User, request: Any
) -> Subscription:
    with transaction.atomic():
        locked = access_subscription(actor, subscription.public_id, for_update=True)
        locked.save(update_fields=locked.apply(action, now=timezone.now()))
        audit.record(
            audit_action,
            actor=actor,
            request=request,
            target=locked,
            details={"kind": locked.kind, "expires_at": locked.expires_at.isoformat()},
        )
    return locked


def unfollow(*, subscription: Subscription, actor: User, request: Any = None) -> Subscription:
    """Stop following: no alert after this. Refuses (``SubscriptionTransitionError``) one
    already stopped or expired, and (Http404) someone else's."""
    return _change("stop", STOPPED, subscription=subscription, actor=actor, request=request)


def renew(*, subscription: Subscription, actor: User, request: Any = None) -> Subscription:
    """Follow for another ``CISS_SUBSCRIPTION_DAYS`` from today (so renewing twice in a day
    changes nothing more), with a new reminder before the end. Refuses
    (``SubscriptionTransitionError``) one already stopped or expired, and (Http404)
    someone else's."""
    return _change("renew", RENEWED, subscription=subscription, actor=actor, request=request)


def cadence_change(
    *, subscription: Subscription, cadence: str, actor: User, request: Any = None
) -> tuple[Subscription, list[int]]:
    """Change how the follower hears of changes. Returns the subscription and the alerts
    that were waiting for tomorrow's digest when the follower switched to right away:
    the caller e-mails them now (they would otherwise wait for a digest that no longer
    comes). Refuses (``SubscriptionTransitionError``) a subscription that has ended, and
    (Http404) someone else's; a wrong cadence is a programming error (``ValueError``)."""
    Cadence(cadence)
    with transaction.atomic():
        locked = access_subscription(actor, subscription.public_id, for_update=True)
        if locked.status != SubscriptionStatus.ACTIVE:
            raise SubscriptionTransitionError(
                f"This subscription is {locked.get_status_display().lower()}, so its e-mail "
                "cannot be changed. Follow it again to be alerted again."
            )
        before = locked.cadence
        if before == cadence:
            return locked, []
        locked.cadence = cadence
        locked.save(update_fields=["cadence"])
        waiting: list[int] = []
        if cadence == Cadence.REALTIME:
            waiting = list(
                locked.alerts.filter(emailed_at__isnull=True, email_error="")
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        audit.record(
            CADENCE_CHANGED,
            actor=actor,
            request=request,
            target=locked,
            details={"kind": locked.kind, "from": before, "to": cadence},
        )
    return locked, waiting


# ---------------------------------------------------------------------------------------
# What the Following page reads


def subscriptions_of(user: User) -> list[Subscription]:
    """The user's active subscriptions, the soonest to end first."""
    return list(
        Subscription.objects.filter(
            user=user, status=SubscriptionStatus.ACTIVE, expires_at__gt=timezone.now()
        )
        .select_related("person", "case", "case__person")
        .prefetch_related("person__names", "case__person__names")
        .order_by("expires_at", "pk")
    )


def ends_soon(subscription: Subscription, now: datetime | None = None) -> bool:
    """Whether the renewal reminder applies: the end is within the reminder days."""
    horizon = (now or timezone.now()) + timedelta(days=settings.CISS_SUBSCRIPTION_REMINDER_DAYS)
    return subscription.expires_at <= horizon


def unseen_alerts(user: User) -> QuerySet[SubscriptionAlert]:
    return SubscriptionAlert.objects.filter(subscription__user=user, seen_at__isnull=True)


@dataclass(frozen=True)
class ShownAlert:
    alert: SubscriptionAlert
    new: bool
    inbox_id: uuid.UUID | None  # the user's own delivery of the exchange, when they have one


def alerts_show(*, user: User, request: Any = None, limit: int = RECENT_ALERTS) -> list[ShownAlert]:
    """The user's latest alerts, newest first; those not seen before are marked seen and
    flagged ``new``. Showing alerts (they may name persons and cases) is audited."""
    alerts = list(
        SubscriptionAlert.objects.filter(subscription__user=user)
        .select_related("subscription")
        .order_by("-created_at", "-pk")[:limit]
    )
    if not alerts:
        return []
    exchanges = {a.exchange_public_id for a in alerts if a.exchange_public_id is not None}
    inbox = (
        dict(
            Delivery.objects.filter(
                recipient=user,
                exchange__public_id__in=exchanges,
                status__in=Delivery.IN_INBOX,
            ).values_list("exchange__public_id", "public_id")
        )
        if exchanges
        else {}
    )
    unseen = [alert.pk for alert in alerts if alert.seen_at is None]
    with transaction.atomic():
        if unseen:
            SubscriptionAlert.objects.filter(pk__in=unseen, seen_at__isnull=True).update(
                seen_at=timezone.now()
            )
        audit.record(
            ALERTS_VIEWED,
            actor=user,
            request=request,
            details={
                "alerts": len(alerts),
                "persons": sorted({str(a.person_public_id) for a in alerts if a.person_public_id}),
                "exchanges": sorted(str(e) for e in exchanges),
            },
        )
    new = set(unseen)
    return [
        ShownAlert(
            alert=a,
            new=a.pk in new,
            inbox_id=inbox.get(a.exchange_public_id) if a.exchange_public_id else None,
        )
        for a in alerts
    ]


# ---------------------------------------------------------------------------------------
# Setting alerting off


def queue_exchange_alerts(exchange_id: int) -> bool:
    """Queue the alerts of an exchange's followers (call it once the exchange commits);
    False, and a log line, when the broker cannot take it. Never raises."""
    try:
        alert_exchange_followers.delay(exchange_id)
    except Exception:  # the broker's errors vary by transport; none may fail the request
        logger.warning("exchange %s: follower alerts not queued", exchange_id, exc_info=True)
        return False
    return True


def _named_in_incidents(incident_ids: list[int]) -> tuple[set[int], set[tuple[str, str]]]:
    """The persons and plates incident reports name (two queries for the whole change)."""
    persons = set(
        IncidentPerson.objects.filter(incident_id__in=incident_ids, person__isnull=False)
        .values_list("person_id", flat=True)
        .distinct()
    )
    plates = set(
        IncidentVehicle.objects.filter(incident_id__in=incident_ids)
        .exclude(plate_key="")
        .values_list("plate_key", "plate_state")
        .distinct()
    )
    return {pk for pk in persons if pk is not None}, plates


def records_changed_listener(change: RecordsChange) -> None:
    """Queue the alerts of the followers of what a committed change of records touched:
    the persons it names (the owner, for a vehicle), the cases (a case itself, or what
    belongs to one) and the plates. Exchange intake announces nothing: the exchange's own
    alert covers what it wrote. Never raises."""
    try:
        person_ids: set[int] = set(change.person_ids)
        case_ids: set[int] = set()
        plates: set[tuple[str, str]] = set()
        for record in change.records:
            if isinstance(record, Person):
                person_ids.add(record.pk)
            elif person_id := getattr(record, "person_id", None):
                person_ids.add(person_id)
            if isinstance(record, Case):
                case_ids.add(record.pk)
            elif case_id := getattr(record, "case_id", None):
                case_ids.add(case_id)
            if isinstance(record, Vehicle):
                plates.add((record.plate_key, record.plate_state))
        incident_ids = [record.pk for record in change.records if isinstance(record, Incident)]
        if incident_ids:
            named_persons, named_plates = _named_in_incidents(incident_ids)
            person_ids |= named_persons
            plates |= named_plates
        if not (person_ids or case_ids or plates):
            return
        alert_record_followers.delay(
            change.kind,
            sorted(person_ids),
            sorted(case_ids),
            [list(plate) for plate in sorted(plates)],
            uuid.uuid4().hex,
        )
    except Exception:  # the records are committed; a lost alert must not fail the feed
        logger.warning("%s records: follower alerts not queued", change.kind, exc_info=True)
