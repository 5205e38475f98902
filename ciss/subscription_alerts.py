"""Alerts of subscriptions: what the tasks of ``ciss.subscription_tasks`` call.

When an exchange or a change of feed records touches something people follow, each of
those people gets one ``SubscriptionAlert`` — one per person and thing that touched, even
when they follow both the person and the case it names — worded for what their claims
let them see (``obts.access.visibility_for``): no case details without the criminal
history claim, nothing of a juvenile or sealed case without its claim, registration
details only with the registry claim. A follower who may no longer open person records
gets no alert.

Every alert has a key (the exchange, or the change of records it came from), unique per
subscription, so a task run twice makes each alert once; e-mails are claimed before they
are sent, so each goes once. E-mails never carry criminal-justice information: a
real-time e-mail says that something changed and links to the portal; the daily digest
gives only a count; the reminder, only how many subscriptions end and when.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from ciss.models import (
    Cadence,
    Exchange,
    Subscription,
    SubscriptionAlert,
    SubscriptionKind,
    SubscriptionStatus,
)
from ciss.plates import plate_key
from obts.access import visibility_for
from obts.models import Case
from obts.selectors import Visibility
from portal import audit

logger = logging.getLogger(__name__)

ERROR_MAX = 500
TEXT_MAX = 300
# Subscriptions expired or reminded per database round.
BATCH = 500

EXPIRED = "ciss.subscription.expired"
REMINDED = "ciss.subscription.reminded"

# Record kinds whose details need a claim (the categories of obts.access); other kinds
# (persons, warrants, protective orders, vehicles) are shown to every reader of records.
# A kind not listed here is treated as criminal history.
_OPEN_KINDS = frozenset(
    {"persons", "warrants", "protective-orders", "vehicles", "incidents", "property"}
)
_REGISTRY_KINDS = frozenset({"registrations"})
KIND_WORDS = {
    "persons": "identity",
    "cases": "case",
    "sentences": "sentence",
    "custody": "custody",
    "supervision": "supervision",
    "protective-orders": "protective order",
    "warrants": "warrant",
    "registrations": "registration",
    "infractions": "infraction",
    "vehicles": "vehicle registration",
    "incidents": "police incident report",
    "property": "property",
}
# When one person follows a thing several ways, the alert goes to one subscription:
# a real-time one first, then the most specific.
_KIND_ORDER: dict[str, int] = {
    SubscriptionKind.CASE: 0,
    SubscriptionKind.PERSON: 1,
    SubscriptionKind.PLATE: 2,
}

REALTIME_SUBJECT = "Something you follow in the CJIS Portal has changed"
DIGEST_SUBJECT = "Your daily CJIS Portal summary of what you follow"
REMINDER_SUBJECT = "Renew what you follow in the CJIS Portal"
_NO_CJI = (
    "This message holds no criminal-justice information. Change how you are alerted, or "
    "stop following, on the Following page."
)


@dataclass(frozen=True)
class Touch:
    """One thing that touched subscriptions: an exchange, or a change of records."""

    key: str
    source: str
    exchange_public_id: UUID | None = None


# ---------------------------------------------------------------------------------------
# Which subscriptions, and the words for each


def _subscriptions(condition: Q, now: datetime) -> list[Subscription]:
    """Active subscriptions of active users matching ``condition``, with what the words
    of an alert need (names, roles and claims) loaded in a fixed number of queries."""
    return list(
        Subscription.objects.filter(condition)
        .filter(status=SubscriptionStatus.ACTIVE, expires_at__gt=now, user__is_active=True)
        .select_related("user", "person", "person__merged_into", "case", "case__person")
        .prefetch_related(
            "user__role_grants", "user__claim_grants", "person__names", "case__person__names"
        )
        .order_by("pk")
    )


def _visibility(subscription: Subscription) -> Visibility | None:
    try:
        return visibility_for(subscription.user)
    except PermissionDenied:
        return None


def case_visible(case: Case, visibility: Visibility) -> bool:
    return (
        visibility.criminal_history
        and (visibility.juvenile or not case.is_juvenile)
        and (visibility.sealed or not case.is_sealed)
    )


def _kind_visible(kind: str, visibility: Visibility) -> bool:
    if kind in _OPEN_KINDS:
        return True
    if kind in _REGISTRY_KINDS:
        return visibility.registry
    return visibility.criminal_history


def _one_per_user(subscriptions: Iterable[Subscription]) -> list[Subscription]:
    chosen: dict[int, Subscription] = {}
    for subscription in subscriptions:
        rank = (subscription.cadence != Cadence.REALTIME, _KIND_ORDER[subscription.kind])
        best = chosen.get(subscription.user_id)
        if best is None or rank < (best.cadence != Cadence.REALTIME, _KIND_ORDER[best.kind]):
            chosen[subscription.user_id] = subscription
    return sorted(chosen.values(), key=lambda subscription: subscription.pk)


def _person_name(subscription: Subscription) -> str:
    if subscription.kind == SubscriptionKind.CASE and subscription.case is not None:
        return str(subscription.case.person)
    return str(subscription.person) if subscription.person is not None else ""


def _linked_person(subscription: Subscription) -> UUID | None:
    """The person whose record an alert links to: the followed person (or the one they
    were merged into), or the person of the followed case."""
    if subscription.kind == SubscriptionKind.CASE and subscription.case is not None:
        return subscription.case.person.public_id
    person = subscription.person
    if person is None:
        return None
    return (person.merged_into or person).public_id


def _generic(subscription: Subscription) -> str:
    """Words that say only that something changed, for a reader who may not see what."""
    if subscription.kind == SubscriptionKind.CASE:
        return "A case you follow changed. Open the record to see what you may."
    return f"{_what(subscription)}: something changed. Open the record to see what you may."


def _what(subscription: Subscription) -> str:
    if subscription.kind == SubscriptionKind.PLATE:
        return f"Plate {subscription.plate_state} {subscription.plate or subscription.plate_key}"
    if subscription.kind == SubscriptionKind.CASE and subscription.case is not None:
        reference = subscription.case.reference
        return f"{reference[:1].upper()}{reference[1:]} ({_person_name(subscription)})"
    return _person_name(subscription)


def _alerts_create(
    touch: Touch, texts: Sequence[tuple[Subscription, str, UUID | None]]
) -> list[int]:
    """One alert per (subscription, touch) — none again for a touch already alerted —
    and the ids of those of real-time subscriptions not yet e-mailed."""
    if not texts:
        return []
    now = timezone.now()
    SubscriptionAlert.objects.bulk_create(
        [
            SubscriptionAlert(
                subscription=subscription,
                created_at=now,
                key=touch.key,
                text=text[:TEXT_MAX],
                source=touch.source,
                person_public_id=person,
                exchange_public_id=touch.exchange_public_id,
            )
            for subscription, text, person in texts
        ],
        ignore_conflicts=True,
    )
    return list(
        SubscriptionAlert.objects.filter(
            key=touch.key,
            subscription__in=[subscription for subscription, _, _ in texts],
            subscription__cadence=Cadence.REALTIME,
            emailed_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# ---------------------------------------------------------------------------------------
# Exchanges


def exchange_plate(payload: Any) -> tuple[str, str, str] | None:
    """The vehicle plate an exchange names, as (folded key, state, plate as sent); None
    when it names none (or one that is not a plate)."""
    vehicle = payload.get("vehicle") if isinstance(payload, dict) else None
    if not isinstance(vehicle, dict):
        return None
    plate, state = str(vehicle.get("plate") or ""), str(vehicle.get("state") or "")
    state = state.strip().upper()
    try:
        key = plate_key(plate)
    except ValueError:
        return None
    if len(state) != 2:
        return None
    return key, state, plate.strip().upper()


def _exchange_text(subscription: Subscription, exchange: Exchange, visibility: Visibility) -> str:
    case = exchange.case
    if not visibility.criminal_history or (case is not None and not case_visible(case, visibility)):
        return _generic(subscription)
    what = exchange.get_type_display()
    subject = str(exchange.person) if exchange.person is not None else exchange.subject_name
    sender = exchange.sender_agency.name
    if subscription.kind == SubscriptionKind.PERSON:
        return f"{what} about {_person_name(subscription)} ({exchange.reference}) from {sender}."
    if subscription.kind == SubscriptionKind.CASE:
        return f"{what} on {_what(subscription)} from {sender}."
    about = f" about {subject}" if subject else ""
    plate = subscription.target_label
    return f"{what}{about} names {plate} ({exchange.reference}) from {sender}."


def alerts_for_exchange(exchange_id: int) -> list[int]:
    """Alert the followers of the exchange's person, case and vehicle plate. Returns the
    ids of the alerts to e-mail right away. An unknown exchange alerts no one."""
    return alerts_for_exchanges([exchange_id])


def alerts_for_exchanges(exchange_ids: list[int]) -> list[int]:
    """``alerts_for_exchange`` for one exchange or several (a lot intake accepted
    together).

    Most exchanges concern no one's subscription: two light queries tell, for all of
    them, before an exchange and its subscriptions are read with everything an alert's
    words need."""
    named = {
        row["pk"]: row
        for row in Exchange.objects.filter(pk__in=exchange_ids).values(
            "pk", "person_id", "case_id", "payload"
        )
    }
    if not Subscription.objects.filter(_followed_by(named.values()) & _active()).exists():
        return []
    alert_ids: list[int] = []
    for exchange_id in sorted(named):
        condition = _followed_by([named[exchange_id]])
        followed = len(named) == 1 or Subscription.objects.filter(condition & _active()).exists()
        if followed:
            alert_ids += _exchange_alerts(exchange_id, condition)
    return alert_ids


def _followed_by(named: Iterable[Mapping[str, Any]]) -> Q:
    """The subscriptions any of these exchanges touches (their persons, cases and
    plates), from their ``person_id``, ``case_id`` and ``payload``: a few ``IN`` lists
    whatever the number of exchanges, since a lot's condition is compiled on every
    delivery."""
    rows = list(named)
    persons = sorted({row["person_id"] for row in rows if row["person_id"] is not None})
    cases = sorted({row["case_id"] for row in rows if row["case_id"] is not None})
    plates = sorted(
        {plate[:2] for row in rows if (plate := exchange_plate(row["payload"])) is not None}
    )
    condition = Q(pk__in=[])
    if persons:
        condition |= Q(kind=SubscriptionKind.PERSON) & (
            Q(person_id__in=persons) | Q(person__merged_into_id__in=persons)
        )
    if cases:
        condition |= Q(kind=SubscriptionKind.CASE, case_id__in=cases)
    for key, state in plates:
        condition |= Q(kind=SubscriptionKind.PLATE, plate_key=key, plate_state=state)
    return condition


def _active() -> Q:
    return Q(status=SubscriptionStatus.ACTIVE, expires_at__gt=timezone.now())


def _exchange_alerts(exchange_id: int, condition: Q) -> list[int]:
    exchange = (
        Exchange.objects.select_related("sender_agency", "person", "case")
        .prefetch_related("person__names")
        .get(pk=exchange_id)
    )
    touch = Touch(
        key=f"exchange:{exchange.public_id}",
        source=f"exchange {exchange.type}",
        exchange_public_id=exchange.public_id,
    )
    person = exchange.person.public_id if exchange.person is not None else None
    texts = []
    for subscription in _one_per_user(_subscriptions(condition, timezone.now())):
        visibility = _visibility(subscription)
        if visibility is not None:
            texts.append((subscription, _exchange_text(subscription, exchange, visibility), person))
    return _alerts_create(touch, texts)


# ---------------------------------------------------------------------------------------
# Changes of feed records


def _records_text(
    subscription: Subscription,
    kind: str,
    visibility: Visibility,
    cases: list[Case],
) -> str:
    """``cases``: the touched cases of the followed person (or the followed case)."""
    if not _kind_visible(kind, visibility) or any(
        not case_visible(case, visibility) for case in cases
    ):
        return _generic(subscription)
    words = KIND_WORDS.get(kind, kind.replace("-", " "))
    if subscription.kind == SubscriptionKind.PERSON and kind == "cases" and len(cases) == 1:
        return f"{_what(subscription)}: new or changed case record ({cases[0].reference})."
    return f"{_what(subscription)}: new or changed {words} record."


def alerts_for_records(
    kind: str,
    person_ids: Iterable[int],
    case_ids: Iterable[int],
    plates: Iterable[Sequence[str]],
    *,
    change: str,
) -> list[int]:
    """Alert the followers of the persons, cases and plates (``(plate_key, state)``) that
    a change of ``kind`` records touched; ``change`` names that change, so a second run
    alerts no one again. Returns the ids of the alerts to e-mail right away."""
    person_ids, case_ids = set(person_ids), set(case_ids)
    wanted_plates = {(str(key), str(state)) for key, state in plates}
    if not (person_ids or case_ids or wanted_plates):
        return []
    condition = Q(pk__in=[])
    if person_ids:
        condition |= Q(kind=SubscriptionKind.PERSON) & (
            Q(person_id__in=person_ids) | Q(person__merged_into_id__in=person_ids)
        )
    if case_ids:
        condition |= Q(kind=SubscriptionKind.CASE, case_id__in=case_ids)
    if wanted_plates:
        condition |= Q(kind=SubscriptionKind.PLATE, plate_key__in={key for key, _ in wanted_plates})
    found = [
        subscription
        for subscription in _subscriptions(condition, timezone.now())
        if subscription.kind != SubscriptionKind.PLATE
        or (subscription.plate_key, subscription.plate_state) in wanted_plates
    ]
    if not found:
        return []
    cases_of: dict[int, list[Case]] = defaultdict(list)
    touched_cases = list(Case.objects.filter(pk__in=case_ids).order_by("pk")) if case_ids else []
    for case in touched_cases:
        cases_of[case.person_id].append(case)
    touch = Touch(key=f"{kind}:{change}"[:80], source=f"feed {kind}"[:60])
    texts = []
    for subscription in _one_per_user(found):
        visibility = _visibility(subscription)
        if visibility is None:
            continue
        if subscription.kind == SubscriptionKind.CASE and subscription.case is not None:
            cases = [subscription.case]
        elif subscription.kind == SubscriptionKind.PERSON and subscription.person is not None:
            ids = {subscription.person_id, subscription.person.merged_into_id}
            cases = [case for case in touched_cases if case.person_id in ids]
        else:
            cases = []
        text = _records_text(subscription, kind, visibility, cases)
        texts.append((subscription, text, _linked_person(subscription)))
    return _alerts_create(touch, texts)


# ---------------------------------------------------------------------------------------
# E-mail


def _following_link() -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('ciss:following')}"


def alerts_email(*, alert_ids: Iterable[int]) -> int:
    """E-mail the follower of each real-time alert that something they follow changed:
    no criminal-justice information, only a link to the portal. Each alert is claimed
    before its e-mail goes, so two runs send it once. A follower without an e-mail
    address, or whose account was disabled, gets none. Raises on a mail server error
    (the claim is given back; the task retries)."""
    sent = 0
    alerts = (
        SubscriptionAlert.objects.filter(
            pk__in=list(alert_ids),
            emailed_at__isnull=True,
            subscription__cadence=Cadence.REALTIME,
            subscription__user__is_active=True,
        )
        .exclude(subscription__user__email="")
        .select_related("subscription__user")
        .order_by("pk")
    )
    link = _following_link()
    for alert in alerts:
        claimed = SubscriptionAlert.objects.filter(pk=alert.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        try:
            send_mail(
                subject=REALTIME_SUBJECT,
                message=(f"{REALTIME_SUBJECT}.\n\nSign in to see what: {link}\n\n{_NO_CJI}"),
                from_email=None,
                recipient_list=[alert.subscription.user.email],
            )
        except Exception:
            SubscriptionAlert.objects.filter(pk=alert.pk).update(emailed_at=None)
            raise
        SubscriptionAlert.objects.filter(pk=alert.pk).update(email_error="")
        sent += 1
    return sent


def alerts_email_failed(*, alert_ids: Iterable[int], reason: str) -> int:
    """After the last attempt: keep why the e-mail could not be sent (the alert itself
    is on the Following page all the same)."""
    return SubscriptionAlert.objects.filter(pk__in=list(alert_ids), emailed_at__isnull=True).update(
        email_error=reason[:ERROR_MAX]
    )


def digests_send() -> int:
    """One e-mail to each follower on the daily cadence with alerts neither seen nor
    e-mailed yet, with their number only; those alerts are then e-mailed. Running it
    twice sends nothing the second time. A mail server error leaves that follower's
    alerts for the next run. Returns the number of e-mails sent."""
    pending = SubscriptionAlert.objects.filter(
        emailed_at__isnull=True,
        seen_at__isnull=True,
        subscription__cadence=Cadence.DAILY,
        subscription__status=SubscriptionStatus.ACTIVE,
        subscription__user__is_active=True,
    ).exclude(subscription__user__email="")
    user_ids = sorted(set(pending.values_list("subscription__user_id", flat=True)))
    link = _following_link()
    sent = 0
    for user_id in user_ids:
        try:
            with transaction.atomic():
                alerts = list(
                    pending.filter(subscription__user_id=user_id)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("subscription__user")
                    .order_by("pk")
                )
                if not alerts:
                    continue
                count = len(alerts)
                changes = "1 change" if count == 1 else f"{count} changes"
                send_mail(
                    subject=DIGEST_SUBJECT,
                    message=(
                        f"Since the last summary there were {changes} to what you follow in "
                        f"the CJIS Portal.\n\nSign in to see them: {link}\n\n{_NO_CJI}"
                    ),
                    from_email=None,
                    recipient_list=[alerts[0].subscription.user.email],
                )
                SubscriptionAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(
                    emailed_at=timezone.now(), email_error=""
                )
        except Exception:  # one follower's mail server problem must not stop the others
            logger.warning("daily digest for user %s not sent", user_id, exc_info=True)
            continue
        sent += 1
    return sent


def reminders_send() -> int:
    """Remind each follower, once, of subscriptions ending within
    ``CISS_SUBSCRIPTION_REMINDER_DAYS``: one e-mail (how many, and the first date — not
    what), then the subscriptions are marked reminded (also for a follower without an
    e-mail address: the Following page shows the reminder). Returns how many
    subscriptions were reminded."""
    now = timezone.now()
    horizon = now + timedelta(days=settings.CISS_SUBSCRIPTION_REMINDER_DAYS)
    due = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=horizon,
    )
    user_ids = sorted(set(due.values_list("user_id", flat=True)))
    link = _following_link()
    reminded = 0
    for user_id in user_ids:
        try:
            with transaction.atomic():
                subscriptions = list(
                    due.filter(user_id=user_id)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("user")
                    .order_by("expires_at", "pk")
                )
                if not subscriptions:
                    continue
                user = subscriptions[0].user
                if user.email and user.is_active:
                    send_mail(
                        subject=REMINDER_SUBJECT,
                        message=_reminder_text(subscriptions, link),
                        from_email=None,
                        recipient_list=[user.email],
                    )
                for subscription in subscriptions:
                    subscription.apply("remind", now=now)
                Subscription.objects.bulk_update(subscriptions, ["reminded_at"])
                audit.record(
                    REMINDED,
                    actor=None,
                    object_type=Subscription._meta.label_lower,
                    details={
                        "user": user.username,
                        "subscriptions": [str(s.public_id) for s in subscriptions],
                    },
                )
        except Exception:  # one follower's mail server problem must not stop the others
            logger.warning("renewal reminder for user %s not sent", user_id, exc_info=True)
            continue
        reminded += len(subscriptions)
    return reminded


def _reminder_text(subscriptions: list[Subscription], link: str) -> str:
    count = len(subscriptions)
    first = timezone.localtime(subscriptions[0].expires_at).date().isoformat()
    what = "1 thing you follow" if count == 1 else f"{count} things you follow"
    return (
        f"{what.capitalize()} in the CJIS Portal will no longer be followed from {first} "
        f"unless you renew.\n\nRenew on the Following page: {link}\n\n{_NO_CJI}"
    )


def subscriptions_expire() -> int:
    """End every active subscription whose time is up (audited, one row per round).
    Running it twice ends nothing the second time. Returns how many were ended."""
    ended = 0
    while True:
        now = timezone.now()
        with transaction.atomic():
            due = list(
                Subscription.objects.select_for_update(skip_locked=True)
                .filter(status=SubscriptionStatus.ACTIVE, expires_at__lte=now)
                .order_by("pk")[:BATCH]
            )
            if not due:
                return ended
            for subscription in due:
                subscription.apply("expire", now=now)
            Subscription.objects.bulk_update(due, ["status", "ended_at"])
            audit.record(
                EXPIRED,
                object_type=Subscription._meta.label_lower,
                details={"subscriptions": [str(s.public_id) for s in due]},
            )
        ended += len(due)
