"""Routing rules and court locations as CJIS staff manage them: saving, turning rules off
and on, saying in words what a rule does, and previewing who would receive an exchange.

Each change locks the row, compares it with what was stored and writes one audit row with
the fields that changed (old and new values; agencies by ORI), last in the transaction.
A save that changes nothing writes nothing. The checks the database would enforce (a
named agency exactly when the target is a named agency) and the court code a rule names
are checked here first, so a bad rule is refused with a message, never an integrity error.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from ciss.exchanges.routing import Recipient, applicable_rules, recipients_for
from ciss.models import CourtLocation, Exchange, ExchangeType, RoutingRule, RoutingTarget
from portal import audit
from portal.models import Agency, User
from portal.roles import Claim, Role

RULE_SAVED = "ciss.routing_rule.saved"
RULE_DEACTIVATED = "ciss.routing_rule.deactivated"
RULE_REACTIVATED = "ciss.routing_rule.reactivated"
COURT_LOCATION_SAVED = "ciss.court_location.saved"

RULE_FIELDS = (
    "name",
    "exchange_type",
    "court_code",
    "town",
    "sending_agency",
    "target",
    "agency",
    "role",
    "required_claim",
    "is_active",
)
COURT_LOCATION_FIELDS = ("code", "name", "town", "court_agency", "prosecutor_agency")

AGENCY_NEEDED = "Choose the agency that receives: the target is a named agency."
AGENCY_NOT_USED = (
    "Leave the agency empty: this target finds the recipient agency from the exchange. "
    "Choose the target “A named agency” to name one."
)


def unknown_court_message(code: str) -> str:
    return (
        f"No court location has the code {code}. Add it under Court locations first, or "
        "leave the court empty for any court."
    )


def rule_problems(*, target: str, agency: Agency | None, court_code: str) -> dict[str, list[str]]:
    """What is wrong with a rule's target, agency and court code, by field; empty when
    nothing is."""
    problems: dict[str, list[str]] = {}
    if target == RoutingTarget.AGENCY and agency is None:
        problems["agency"] = [AGENCY_NEEDED]
    elif target and target != RoutingTarget.AGENCY and agency is not None:
        problems["agency"] = [AGENCY_NOT_USED]
    if court_code and not CourtLocation.objects.filter(code__iexact=court_code).exists():
        problems["court_code"] = [unknown_court_message(court_code)]
    return problems


def _value(instance: Model, name: str) -> Any:
    value = getattr(instance, name)
    if isinstance(value, Agency):
        return value.ori
    return value


def _changes(before: Model | None, after: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    """``{field: [old, new]}`` for the fields that differ (every field, old ``None``, for a
    new row)."""
    changes = {}
    for name in fields:
        new = _value(after, name)
        old = _value(before, name) if before is not None else None
        if before is None or old != new:
            changes[name] = [old, new]
    return changes


@transaction.atomic
def routing_rule_save(
    *, rule: RoutingRule, actor: User, request: HttpRequest | None = None
) -> RoutingRule:
    """Create or update ``rule`` as given (court code and town trimmed, the code in
    capitals), recording who saved it. Refuses (``ValidationError`` by field) a named
    agency missing or given where the target does not use one, and a court code that no
    court location has. Writes nothing when nothing changed."""
    rule.court_code = rule.court_code.strip().upper()
    rule.town = rule.town.strip()
    rule.name = rule.name.strip()
    problems = rule_problems(target=rule.target, agency=rule.agency, court_code=rule.court_code)
    if problems:
        raise ValidationError(problems)
    before = None
    if rule.pk is not None:
        before = (
            RoutingRule.objects.select_for_update(of=("self",))
            .select_related("agency", "sending_agency")
            .get(pk=rule.pk)
        )
    changes = _changes(before, rule, RULE_FIELDS)
    if not changes:
        return rule
    rule.updated_by = actor
    rule.save()
    audit.record(
        RULE_SAVED,
        actor=actor,
        request=request,
        target=rule,
        details={"name": rule.name, "created": before is None, "changes": changes},
    )
    return rule


@transaction.atomic
def routing_rule_set_active(
    *, rule: RoutingRule, active: bool, actor: User, request: HttpRequest | None = None
) -> bool:
    """Turn a rule on or off; whether it changed (a rule already so is left, unaudited).
    An inactive rule routes nothing; deliveries it already made stay where they are.
    Refuses (``ValidationError``) to turn on a rule whose court location is gone."""
    locked = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if locked.is_active == active:
        rule.is_active = active
        return False
    if active:
        problems = rule_problems(
            target=locked.target, agency=locked.agency, court_code=locked.court_code
        )
        if problems:
            raise ValidationError(problems)
    locked.is_active = rule.is_active = active
    locked.updated_by = actor
    locked.save(update_fields=["is_active", "updated_by", "updated_at"])
    audit.record(
        RULE_REACTIVATED if active else RULE_DEACTIVATED,
        actor=actor,
        request=request,
        target=locked,
        details={"name": locked.name, "changes": {"is_active": [not active, active]}},
    )
    return True


@transaction.atomic
def court_location_save(
    *, location: CourtLocation, actor: User, request: HttpRequest | None = None
) -> CourtLocation:
    """Create or update a court location (code trimmed, in capitals). Refuses
    (``ValidationError`` on the code) a code another location has, in any case, and a
    change of code: rules and exchanges name locations by their code. Writes nothing when
    nothing changed."""
    location.code = location.code.strip().upper()
    before = None
    if location.pk is not None:
        before = (
            CourtLocation.objects.select_for_update(of=("self",))
            .select_related("court_agency", "prosecutor_agency")
            .get(pk=location.pk)
        )
        if before.code != location.code:
            raise ValidationError(
                {"code": ["The code cannot change: rules and exchanges refer to it."]}
            )
    taken = CourtLocation.objects.filter(code__iexact=location.code).exclude(pk=location.pk)
    if taken.exists():
        raise ValidationError({"code": [f"Court location {location.code} already exists."]})
    changes = _changes(before, location, COURT_LOCATION_FIELDS)
    if not changes:
        return location
    location.save()
    audit.record(
        COURT_LOCATION_SAVED,
        actor=actor,
        request=request,
        target=location,
        object_id=location.code,
        details={"code": location.code, "created": before is None, "changes": changes},
    )
    return location


# Reading -----------------------------------------------------------------------------------


def routing_rules(
    *, exchange_type: str | None = None, active: bool | None = None
) -> QuerySet[RoutingRule]:
    """Rules by exchange type (``""``: those for every type; ``None``: all), active or
    not (``None``: both), with the agencies they name."""
    rules = RoutingRule.objects.select_related("agency", "sending_agency", "updated_by")
    if exchange_type is not None:
        rules = rules.filter(exchange_type=exchange_type)
    if active is not None:
        rules = rules.filter(is_active=active)
    return rules.order_by("exchange_type", "-is_active", "court_code", "name", "pk")


PLURALS: dict[str, str] = {
    ExchangeType.EARLY_ARREST_NOTICE: "Early arrest notices",
    ExchangeType.ARREST_PACKET: "Arrest packets",
    ExchangeType.MISDEMEANOR_SUMMONS: "Misdemeanor summonses",
    ExchangeType.INFRACTION: "Infractions",
    ExchangeType.COURT_SCHEDULE_NOTIFICATION: "Court schedule notifications",
}
TARGET_WORDS: dict[str, str] = {
    RoutingTarget.COURT: "the court of the exchange's court location",
    RoutingTarget.PROSECUTOR: "the state's attorney for the exchange's court location",
    RoutingTarget.ARRESTING_AGENCY: "the arresting agency",
    RoutingTarget.CUSTODY: "corrections, while the person is in custody",
}


def rule_applies_to(rule: RoutingRule) -> str:
    """The exchanges a rule applies to, in words."""
    kind = (
        PLURALS.get(rule.exchange_type, rule.get_exchange_type_display())
        if rule.exchange_type
        else "Every type of exchange"
    )
    conditions = [
        f"for court {rule.court_code}" if rule.court_code else "for any court",
        f"from agencies in {rule.town}" if rule.town else "from any town",
        f"sent by {rule.sending_agency}" if rule.sending_agency else "sent by any agency",
    ]
    return f"{kind} {', '.join(conditions)}."


def rule_recipients(rule: RoutingRule) -> str:
    """Who a rule sends to, in words."""
    if rule.target == RoutingTarget.AGENCY:
        where = str(rule.agency) if rule.agency else "a named agency (none chosen)"
    else:
        where = TARGET_WORDS.get(rule.target, rule.get_target_display())
    words = f"People with the role {Role(rule.role).label} at {where}"
    if rule.required_claim:
        words += f" who also hold the claim “{Claim(rule.required_claim).label}”"
    return words + "."


@dataclass(frozen=True)
class Preview:
    recipients: list[Recipient]
    court_location: CourtLocation | None
    rules_applying: list[RoutingRule]


def routing_preview(*, exchange_type: str, court_code: str, sending_agency: Agency) -> Preview:
    """Who would receive an exchange of this type, for this court, from this agency (as
    its own arresting agency), by the active rules as they stand. Reads only. Nobody is
    in custody in a preview: custody rules need a real person."""
    code = court_code.strip().upper()
    exchange = Exchange(type=exchange_type, sender_agency=sending_agency, court_code=code)
    recipients = recipients_for(exchange, arresting_ori=sending_agency.ori)
    location = CourtLocation.objects.filter(code__iexact=code).first() if code else None
    return Preview(
        recipients=recipients, court_location=location, rules_applying=applicable_rules(exchange)
    )
