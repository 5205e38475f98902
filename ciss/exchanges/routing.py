"""Who receives an exchange: the active routing rules that apply to it, the agencies each
names, and the people of those agencies who hold the rule's role (and claim).

A rule applies when each of its conditions is empty or equals the exchange's: type, court
location code, the sending agency's town, the sending agency. Its target names the
recipient agency: the court of the exchange's court location and that court's state's
attorney (``CourtLocation``), the arresting agency of the case, corrections while the
person is in custody, or a named agency. A person matched by several rules receives the
exchange once, under the first rule by name.

Every exchange is routed, and what routing reads changes rarely: the active rules, the
court locations and the people holding the rules' roles are kept as one ``RoutingBook``
in the cache (four queries to build, a minute at most). Saving or deleting a rule, a
court location, an agency, a user (other than signing in), a role or a claim drops the
book, so the next exchange is routed by what was just saved.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ciss.models import CourtLocation, Exchange, RoutingRule, RoutingTarget
from obts.models import CustodyPeriod
from portal.models import Agency, AgencyKind, ClaimGrant, RoleGrant, User

BOOK_CACHE_KEY = "ciss:routing-book"
# Changes made through the portal drop the book at once; this bounds only changes made
# behind its back (SQL).
BOOK_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Recipient:
    user: User
    agency: Agency
    rule: RoutingRule


@dataclass
class RoutingBook:
    """The active rules (by name, as the database orders them), the court locations by
    upper-case code, and for each (role, claim) the active users holding both, by pk."""

    rules: list[RoutingRule]
    locations: dict[str, CourtLocation]
    holders: dict[tuple[str, str], list[User]] = field(default_factory=dict)

    def applicable(self, exchange: Exchange) -> list[RoutingRule]:
        sender = exchange.sender_agency
        court = (exchange.court_code or "").upper()
        town = (sender.town or "").upper()
        return [
            rule
            for rule in self.rules
            if rule.exchange_type in ("", exchange.type)
            and (not rule.court_code or rule.court_code.upper() == court)
            and (not rule.town or rule.town.upper() == town)
            and (rule.sending_agency_id is None or rule.sending_agency_id == sender.pk)
        ]

    def location(self, code: str) -> CourtLocation | None:
        return self.locations.get(code.upper()) if code else None

    def holders_at(self, rule: RoutingRule, agencies: dict[int, Agency]) -> list[User]:
        return [
            user
            for user in self.holders.get((rule.role, rule.required_claim), [])
            if user.agency_id in agencies
        ]


def build_book() -> RoutingBook:
    """The book as the database holds it now (four queries)."""
    rules = list(
        RoutingRule.objects.filter(is_active=True).select_related("agency").order_by("name", "pk")
    )
    locations: dict[str, CourtLocation] = {}
    for location in CourtLocation.objects.select_related("court_agency", "prosecutor_agency"):
        locations.setdefault(location.code.upper(), location)
    wanted = {(rule.role, rule.required_claim) for rule in rules}
    roles = {role for role, _ in wanted}
    claims = {claim for _, claim in wanted if claim}
    grants = (
        RoleGrant.objects.filter(role__in=roles, user__is_active=True, user__agency__isnull=False)
        .select_related("user")
        # What routing and its preview show of a person, and no more: the book goes to
        # the shared cache, which has no business holding password hashes.
        .only("role", "user__username", "user__first_name", "user__last_name", "user__agency_id")
        .order_by("user_id")
    )
    by_role: dict[str, list[User]] = {}
    for grant in grants:
        by_role.setdefault(grant.role, []).append(grant.user)
    held: set[tuple[int, str]] = set(
        ClaimGrant.objects.filter(
            claim__in=claims, user_id__in={u.pk for users in by_role.values() for u in users}
        ).values_list("user_id", "claim")
    )
    holders = {
        (role, claim): [
            user for user in by_role.get(role, []) if not claim or (user.pk, claim) in held
        ]
        for role, claim in wanted
    }
    return RoutingBook(rules=rules, locations=locations, holders=holders)


def routing_book() -> RoutingBook:
    """The book from the cache, or built and cached."""
    book = cache.get(BOOK_CACHE_KEY)
    if isinstance(book, RoutingBook):
        return book
    book = build_book()
    cache.set(BOOK_CACHE_KEY, book, BOOK_CACHE_SECONDS)
    return book


def forget_book() -> None:
    """Drop the cached book: now, and again when the transaction commits (a request that
    read the tables before the commit may have cached the old book meanwhile)."""
    cache.delete(BOOK_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(BOOK_CACHE_KEY))


@receiver(post_save, sender=RoutingRule)
@receiver(post_delete, sender=RoutingRule)
@receiver(post_save, sender=CourtLocation)
@receiver(post_delete, sender=CourtLocation)
@receiver(post_save, sender=Agency)
@receiver(post_delete, sender=Agency)
@receiver(post_save, sender=RoleGrant)
@receiver(post_delete, sender=RoleGrant)
@receiver(post_save, sender=ClaimGrant)
@receiver(post_delete, sender=ClaimGrant)
@receiver(post_delete, sender=User)
def _routing_changed(sender: type[Any], **kwargs: Any) -> None:
    forget_book()


@receiver(post_save, sender=User)
def _user_saved(
    sender: type[User], update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    # Signing in saves last_login alone, which routing does not read.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    forget_book()


def applicable_rules(exchange: Exchange) -> list[RoutingRule]:
    """The active rules whose conditions the exchange meets, by name."""
    return routing_book().applicable(exchange)


def target_agencies(
    rule: RoutingRule,
    exchange: Exchange,
    *,
    arresting_ori: str,
    location: CourtLocation | None,
) -> list[Agency]:
    """The agencies a rule sends the exchange to; none when the exchange does not name what
    the target needs (an unknown court location, a person not in custody...).
    ``location`` is the exchange's court location (``court_location``)."""
    match rule.target:
        case RoutingTarget.AGENCY:
            return [rule.agency] if rule.agency is not None and rule.agency.is_active else []
        case RoutingTarget.COURT | RoutingTarget.PROSECUTOR:
            if location is None:
                return []
            agency = (
                location.court_agency
                if rule.target == RoutingTarget.COURT
                else location.prosecutor_agency
            )
            return [agency] if agency is not None and agency.is_active else []
        case RoutingTarget.ARRESTING_AGENCY:
            return list(Agency.objects.filter(ori=arresting_ori, is_active=True))
        case RoutingTarget.CUSTODY:
            in_custody = (
                exchange.person_id is not None
                and CustodyPeriod.objects.filter(
                    person_id=exchange.person_id, released_on__isnull=True
                ).exists()
            )
            if not in_custody:
                return []
            return list(Agency.objects.filter(kind=AgencyKind.CORRECTIONS, is_active=True))
    return []


def court_location(code: str) -> CourtLocation | None:
    return routing_book().location(code)


def recipients_for(
    exchange: Exchange, *, arresting_ori: str, book: RoutingBook | None = None
) -> list[Recipient]:
    """Every person who receives ``exchange``, once each; by ``book`` when given (one
    read of the cached book for a lot of exchanges), else by the current book."""
    book = book or routing_book()
    chosen: dict[int, Recipient] = {}
    location = book.location(exchange.court_code)
    for rule in book.applicable(exchange):
        targets = target_agencies(rule, exchange, arresting_ori=arresting_ori, location=location)
        agencies = {agency.pk: agency for agency in targets}
        if not agencies:
            continue
        for user in book.holders_at(rule, agencies):
            if user.pk not in chosen and user.agency_id is not None:
                chosen[user.pk] = Recipient(user=user, agency=agencies[user.agency_id], rule=rule)
    return list(chosen.values())
