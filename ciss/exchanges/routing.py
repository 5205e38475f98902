"""Who receives an exchange: the active routing rules that apply to it, the agencies each
names, and the people of those agencies who hold the rule's role (and claim).

A rule applies when each of its conditions is empty or equals the exchange's: type, court
location code, the sending agency's town, the sending agency. Its target names the
recipient agency: the court of the exchange's court location and that court's state's
attorney (``CourtLocation``), the arresting agency of the case, corrections while the
person is in custody, or a named agency. A person matched by several rules receives the
exchange once, under the first rule by name.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from ciss.models import CourtLocation, Exchange, RoutingRule, RoutingTarget
from obts.models import CustodyPeriod
from portal.models import Agency, AgencyKind, User


@dataclass(frozen=True)
class Recipient:
    user: User
    agency: Agency
    rule: RoutingRule


def applicable_rules(exchange: Exchange) -> list[RoutingRule]:
    """The active rules whose conditions the exchange meets, by name."""
    sender = exchange.sender_agency
    return list(
        RoutingRule.objects.filter(is_active=True)
        .filter(Q(exchange_type="") | Q(exchange_type=exchange.type))
        .filter(Q(court_code="") | Q(court_code__iexact=exchange.court_code))
        .filter(Q(town="") | Q(town__iexact=sender.town))
        .filter(Q(sending_agency__isnull=True) | Q(sending_agency=sender))
        .select_related("agency")
        .order_by("name", "pk")
    )


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
    if not code:
        return None
    return (
        CourtLocation.objects.select_related("court_agency", "prosecutor_agency")
        .filter(code__iexact=code)
        .first()
    )


def recipients_for(exchange: Exchange, *, arresting_ori: str) -> list[Recipient]:
    """Every person who receives ``exchange``, once each."""
    chosen: dict[int, Recipient] = {}
    location = court_location(exchange.court_code)
    for rule in applicable_rules(exchange):
        targets = target_agencies(rule, exchange, arresting_ori=arresting_ori, location=location)
        agencies = {agency.pk: agency for agency in targets}
        if not agencies:
            continue
        for user in _holders(rule, agencies):
            if user.pk not in chosen and user.agency_id is not None:
                chosen[user.pk] = Recipient(user=user, agency=agencies[user.agency_id], rule=rule)
    return list(chosen.values())


def _holders(rule: RoutingRule, agencies: dict[int, Agency]) -> Iterable[User]:
    users = User.objects.filter(is_active=True, agency_id__in=agencies, role_grants__role=rule.role)
    if rule.required_claim:
        users = users.filter(claim_grants__claim=rule.required_claim)
    return users.distinct().order_by("pk")
