"""The routing rules a new portal starts with, and the demo's court locations.

Installed by ``python manage.py seed_routing`` (and by ``seed_demo``); idempotent: a rule
already there by name is left as CJIS staff last saved it.

- early arrest notice and arrest packet → clerks of the arraignment court and the
  state's attorney for that court;
- misdemeanor summons → clerks of the court;
- infraction → the Central Infractions Bureau;
- court schedule notification → the arresting agency, and corrections while the person
  is in custody.
"""

from dataclasses import dataclass

from django.db import transaction

from ciss.models import CourtLocation, ExchangeType, RoutingRule, RoutingTarget
from portal.models import Agency, AgencyKind
from portal.roles import Claim, Role

CENTRAL_INFRACTIONS_BUREAU = ("CTCIB0000", "Central Infractions Bureau", "Wethersfield")


@dataclass(frozen=True)
class DefaultRule:
    name: str
    exchange_type: ExchangeType
    target: RoutingTarget
    role: Role
    claim: Claim | None = Claim.RECEIVE_ARREST_NOTICES


DEFAULT_RULES = [
    DefaultRule(
        "Early arrest notice to the arraignment court's clerks",
        ExchangeType.EARLY_ARREST_NOTICE,
        RoutingTarget.COURT,
        Role.COURT_CLERK,
    ),
    DefaultRule(
        "Early arrest notice to the state's attorney",
        ExchangeType.EARLY_ARREST_NOTICE,
        RoutingTarget.PROSECUTOR,
        Role.PROSECUTOR,
    ),
    DefaultRule(
        "Arrest packet to the arraignment court's clerks",
        ExchangeType.ARREST_PACKET,
        RoutingTarget.COURT,
        Role.COURT_CLERK,
    ),
    DefaultRule(
        "Arrest packet to the state's attorney",
        ExchangeType.ARREST_PACKET,
        RoutingTarget.PROSECUTOR,
        Role.PROSECUTOR,
    ),
    DefaultRule(
        "Misdemeanor summons to the court's clerks",
        ExchangeType.MISDEMEANOR_SUMMONS,
        RoutingTarget.COURT,
        Role.COURT_CLERK,
    ),
    DefaultRule(
        "Infraction to the Central Infractions Bureau",
        ExchangeType.INFRACTION,
        RoutingTarget.AGENCY,
        Role.COURT_CLERK,
        None,
    ),
    DefaultRule(
        "Court schedule notification to the arresting agency",
        ExchangeType.COURT_SCHEDULE_NOTIFICATION,
        RoutingTarget.ARRESTING_AGENCY,
        Role.OFFICER,
        None,
    ),
    DefaultRule(
        "Court schedule notification to corrections while in custody",
        ExchangeType.COURT_SCHEDULE_NOTIFICATION,
        RoutingTarget.CUSTODY,
        Role.CORRECTIONS,
    ),
]

# (code, name, town, court ORI, state's attorney ORI) — the demo agencies' courts.
DEMO_COURT_LOCATIONS = [
    ("GA14", "Geographical Area 14, Hartford", "Hartford", "CT015013J", "CT015011A"),
    ("GA23", "Geographical Area 23, New Haven", "New Haven", "CT009023J", "CT009011A"),
    ("GA2", "Geographical Area 2, Bridgeport", "Bridgeport", "CT001002J", ""),
    ("HHD", "Hartford Judicial District", "Hartford", "CT015000J", "CT015011A"),
]


@transaction.atomic
def routing_rules_install() -> int:
    """Install the default rules missing by name (and the Central Infractions Bureau's
    agency, which the infraction rule names); the number added."""
    ori, name, town = CENTRAL_INFRACTIONS_BUREAU
    bureau, _ = Agency.objects.get_or_create(
        ori=ori, defaults={"name": name, "kind": AgencyKind.COURT, "town": town}
    )
    added = 0
    for rule in DEFAULT_RULES:
        _, created = RoutingRule.objects.get_or_create(
            name=rule.name,
            defaults={
                "exchange_type": rule.exchange_type,
                "target": rule.target,
                "agency": bureau if rule.target == RoutingTarget.AGENCY else None,
                "role": rule.role,
                "required_claim": rule.claim or "",
            },
        )
        added += created
    return added


@transaction.atomic
def demo_court_locations_install() -> int:
    """The demo's court locations, for the demo agencies that exist; the number added."""
    agencies = {agency.ori: agency for agency in Agency.objects.all()}
    added = 0
    for code, name, town, court_ori, prosecutor_ori in DEMO_COURT_LOCATIONS:
        if court_ori not in agencies:
            continue
        _, created = CourtLocation.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "town": town,
                "court_agency": agencies[court_ori],
                "prosecutor_agency": agencies.get(prosecutor_ori),
            },
        )
        added += created
    return added
