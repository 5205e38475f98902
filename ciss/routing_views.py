"""CISS pages of the CJIS staff and the help desk: routing rules and court locations (who
receives what), the routing preview, and the delivery problems the help desk resolves.

The delivery problems page shows what is needed to fix a delivery — type, reference,
agencies, recipients, reasons — and never what the exchange says about its subject.
"""

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ciss.exchanges import rules
from ciss.exchanges.delivery import alert_resend, delivery_retry, exchange_reroute
from ciss.exchanges.intake import queue_alert, queue_delivery
from ciss.forms import CourtLocationForm, RoutingPreviewForm, RoutingRuleFilterForm, RoutingRuleForm
from ciss.models import (
    CourtLocation,
    Delivery,
    DeliveryStatus,
    DeliveryTransitionError,
    Exchange,
    ExchangeStatus,
    ExchangeType,
    RoutingRule,
)
from portal import audit
from portal.access import acting_user, require_roles
from portal.roles import Role

ROUTING_MANAGERS = (Role.CJIS_SECURITY, Role.ADMINISTRATOR)
DELIVERY_WATCHERS = (Role.HELP_DESK, Role.CJIS_SECURITY, Role.ADMINISTRATOR)
PAGE_SIZE = 25
PROBLEMS_LISTED = "ciss.delivery_problems.listed"


# ---------------------------------------------------------------------------------------
# Routing rules


def _rule_groups(rule_list: list[RoutingRule]) -> list[dict[str, Any]]:
    """Rules by exchange type, in the order of the types; rules for every type first."""
    labels = {"": "Every type of exchange", **dict(ExchangeType.choices)}
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in rule_list:
        groups.setdefault(rule.exchange_type, []).append(
            {
                "rule": rule,
                "applies_to": rules.rule_applies_to(rule),
                "recipients": rules.rule_recipients(rule),
            }
        )
    return [
        {"type": kind, "label": labels[kind], "rules": groups[kind]}
        for kind in labels
        if kind in groups
    ]


@require_roles(*ROUTING_MANAGERS)
@require_GET
def routing_rules_view(request: HttpRequest) -> HttpResponse:
    form = RoutingRuleFilterForm(request.GET or {"status": "all"})
    found = list(rules.routing_rules(**form.filters()))
    context = {"form": form, "groups": _rule_groups(found), "count": len(found)}
    return render(request, "ciss/routing/rules.html", context)


def _rule_form_page(request: HttpRequest, rule: RoutingRule | None) -> HttpResponse:
    form = RoutingRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = rules.routing_rule_save(
                rule=form.save(commit=False), actor=acting_user(request), request=request
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Routing rule “{saved.name}” saved.")
            return redirect("ciss:routing_rules")
    return render(request, "ciss/routing/rule_form.html", {"form": form, "rule": rule})


@require_roles(*ROUTING_MANAGERS)
@never_cache
@require_http_methods(["GET", "POST"])
def routing_rule_create_view(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, None)


@require_roles(*ROUTING_MANAGERS)
@never_cache
@require_http_methods(["GET", "POST"])
def routing_rule_edit_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    rule = get_object_or_404(
        RoutingRule.objects.select_related("agency", "sending_agency"), public_id=public_id
    )
    return _rule_form_page(request, rule)


def _set_active(request: HttpRequest, public_id: uuid.UUID, *, active: bool) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, public_id=public_id)
    try:
        changed = rules.routing_rule_set_active(
            rule=rule, active=active, actor=acting_user(request), request=request
        )
    except ValidationError as error:
        messages.error(
            request, f"“{rule.name}” stays inactive: {' '.join(error.messages)} Edit it first."
        )
        return redirect("ciss:routing_rules")
    state = "active" if active else "inactive"
    if changed:
        consequence = "it routes new exchanges again" if active else "it routes no new exchange"
        messages.success(request, f"“{rule.name}” is now {state}: {consequence}.")
    else:
        messages.info(request, f"“{rule.name}” was already {state}.")
    return redirect("ciss:routing_rules")


@require_roles(*ROUTING_MANAGERS)
@require_POST
def routing_rule_deactivate_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _set_active(request, public_id, active=False)


@require_roles(*ROUTING_MANAGERS)
@require_POST
def routing_rule_reactivate_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _set_active(request, public_id, active=True)


@require_roles(*ROUTING_MANAGERS)
@require_GET
def routing_preview_view(request: HttpRequest) -> HttpResponse:
    """Who would receive an exchange of a type, for a court, from an agency: read only."""
    form = RoutingPreviewForm(request.GET or None)
    preview = None
    if form.is_bound and form.is_valid():
        preview = rules.routing_preview(
            exchange_type=form.cleaned_data["exchange_type"],
            court_code=form.cleaned_data["court_code"],
            sending_agency=form.cleaned_data["sending_agency"],
        )
    return render(request, "ciss/routing/preview.html", {"form": form, "preview": preview})


# ---------------------------------------------------------------------------------------
# Court locations


@require_roles(*ROUTING_MANAGERS)
@require_GET
def court_locations_view(request: HttpRequest) -> HttpResponse:
    locations = CourtLocation.objects.select_related("court_agency", "prosecutor_agency")
    return render(request, "ciss/routing/court_locations.html", {"locations": locations})


def _court_form_page(request: HttpRequest, location: CourtLocation | None) -> HttpResponse:
    form = CourtLocationForm(request.POST or None, instance=location)
    if request.method == "POST" and form.is_valid():
        try:
            saved = rules.court_location_save(
                location=form.save(commit=False), actor=acting_user(request), request=request
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Court location {saved.code} saved.")
            return redirect("ciss:court_locations")
    context = {"form": form, "location": location}
    return render(request, "ciss/routing/court_location_form.html", context)


@require_roles(*ROUTING_MANAGERS)
@never_cache
@require_http_methods(["GET", "POST"])
def court_location_create_view(request: HttpRequest) -> HttpResponse:
    return _court_form_page(request, None)


@require_roles(*ROUTING_MANAGERS)
@never_cache
@require_http_methods(["GET", "POST"])
def court_location_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    location = get_object_or_404(
        CourtLocation.objects.select_related("court_agency", "prosecutor_agency"),
        code__iexact=code,
    )
    return _court_form_page(request, location)


# ---------------------------------------------------------------------------------------
# Delivery problems (help desk)

FAILED, ALERTS, UNROUTED = "failed", "alerts", "unrouted"
PROBLEM_TABS = {
    FAILED: "Failed deliveries",
    ALERTS: "E-mail alerts not sent",
    UNROUTED: "Exchanges nobody received",
}


def _failed_deliveries() -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(status=DeliveryStatus.FAILED)
        .select_related("exchange__sender_agency", "recipient", "agency")
        .only(
            "public_id",
            "attempts",
            "last_error",
            "created_at",
            "exchange__type",
            "exchange__incident_number",
            "exchange__docket_number",
            "exchange__received_at",
            "exchange__sender_agency__name",
            "exchange__sender_agency__ori",
            "recipient__username",
            "recipient__first_name",
            "recipient__last_name",
            "recipient__is_active",
            "agency__name",
            "agency__ori",
        )
        .order_by("-created_at", "-pk")
    )


def _unsent_alerts() -> QuerySet[Delivery]:
    return (
        Delivery.objects.exclude(alert_error="")
        .filter(alerted_at__isnull=True)
        .select_related("exchange__sender_agency", "recipient", "agency")
        .only(
            "public_id",
            "alert_error",
            "delivered_at",
            "created_at",
            "exchange__type",
            "exchange__incident_number",
            "exchange__docket_number",
            "exchange__sender_agency__name",
            "exchange__sender_agency__ori",
            "recipient__username",
            "recipient__first_name",
            "recipient__last_name",
            "recipient__email",
            "agency__name",
            "agency__ori",
        )
        .order_by("-created_at", "-pk")
    )


def _unrouted_exchanges() -> QuerySet[Exchange]:
    known_court = CourtLocation.objects.filter(code__iexact=OuterRef("court_code"))
    return (
        Exchange.objects.filter(status=ExchangeStatus.NO_RECIPIENTS)
        .select_related("sender_agency")
        .only(
            "public_id",
            "type",
            "incident_number",
            "docket_number",
            "court_code",
            "received_at",
            "sender_agency__name",
            "sender_agency__ori",
        )
        .annotate(court_known=Exists(known_court))
        .order_by("-received_at", "-pk")
    )


@require_roles(*DELIVERY_WATCHERS)
@require_GET
@never_cache
def delivery_problems_view(request: HttpRequest) -> HttpResponse:
    """One tab at a time: failed deliveries (with "Send again"), e-mail alerts that could
    not be sent, and exchanges that found nobody to route to. Listing is audited."""
    show = request.GET.get("show", FAILED)
    if show not in PROBLEM_TABS:
        show = FAILED
    rows: QuerySet[Any]
    if show == FAILED:
        rows = _failed_deliveries()
    elif show == ALERTS:
        rows = _unsent_alerts()
    else:
        rows = _unrouted_exchanges()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = {
        FAILED: Delivery.objects.filter(status=DeliveryStatus.FAILED).count(),
        ALERTS: Delivery.objects.exclude(alert_error="").filter(alerted_at__isnull=True).count(),
        UNROUTED: Exchange.objects.filter(status=ExchangeStatus.NO_RECIPIENTS).count(),
    }
    audit.record(
        PROBLEMS_LISTED,
        request=request,
        details={"show": show, "page": page.number, "shown": len(page.object_list)},
    )
    user = acting_user(request)
    context = {
        "show": show,
        "tabs": [
            {"key": key, "label": label, "count": counts[key], "current": key == show}
            for key, label in PROBLEM_TABS.items()
        ],
        "page": page,
        "query": f"show={show}",
        "can_manage_routing": user.has_role(*ROUTING_MANAGERS),
    }
    return render(request, "ciss/deliveries/problems.html", context)


@require_roles(*DELIVERY_WATCHERS)
@require_POST
def delivery_retry_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Send a failed delivery again: pending at once, delivered by the task (queued once
    the change is committed)."""
    delivery = get_object_or_404(
        Delivery.objects.select_related("recipient", "exchange"), public_id=public_id
    )
    back = f"{reverse('ciss:delivery_problems')}?show={FAILED}"
    who = delivery.recipient.get_full_name() or delivery.recipient.username
    try:
        with transaction.atomic():
            delivery = delivery_retry(
                delivery=delivery, actor=acting_user(request), request=request
            )
            exchange_id = delivery.exchange_id
            transaction.on_commit(lambda: queue_delivery(exchange_id))
    except DeliveryTransitionError as error:
        messages.error(request, f"Not sent again to {who}: {error}")
        return redirect(back)
    delivery.refresh_from_db(fields=["status", "last_error"])
    if delivery.status == DeliveryStatus.FAILED:
        messages.warning(
            request, f"Sent again to {who}, and it failed again: {delivery.last_error}"
        )
    elif delivery.status == DeliveryStatus.PENDING:
        messages.success(request, f"Sent again to {who}: it is queued for delivery.")
    else:
        messages.success(request, f"Sent again to {who}: it is in their inbox now.")
    return redirect(back)


@require_roles(*DELIVERY_WATCHERS)
@require_POST
def exchange_reroute_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Route an exchange nobody received again, once a court location or rule is fixed."""
    exchange = get_object_or_404(
        Exchange.objects.select_related("sender_agency"), public_id=public_id
    )
    back = f"{reverse('ciss:delivery_problems')}?show={UNROUTED}"
    what = f"{exchange.get_type_display()} {exchange.reference}".strip()
    try:
        with transaction.atomic():
            routed = exchange_reroute(
                exchange=exchange, actor=acting_user(request), request=request
            )
            if routed:
                transaction.on_commit(lambda: queue_delivery(exchange.pk))
    except ValueError as error:
        messages.error(request, f"{what} was not routed again: {error}")
        return redirect(back)
    if routed:
        plural = "recipient" if routed == 1 else "recipients"
        messages.success(request, f"{what} routed again: {routed} {plural}, queued for delivery.")
    else:
        messages.warning(
            request,
            f"{what} still finds nobody: fix the court location or the routing rule first "
            "(Who would receive? shows what a rule does).",
        )
    return redirect(back)


@require_roles(*DELIVERY_WATCHERS)
@require_POST
def alert_resend_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Try a failed e-mail alert again, once the address or the mail server is fixed."""
    delivery = get_object_or_404(
        Delivery.objects.select_related("recipient", "exchange"), public_id=public_id
    )
    back = f"{reverse('ciss:delivery_problems')}?show={ALERTS}"
    who = delivery.recipient.get_full_name() or delivery.recipient.username
    try:
        delivery = alert_resend(delivery=delivery, actor=acting_user(request), request=request)
    except ValueError as error:
        messages.error(request, f"The alert to {who} was not sent again: {error}")
        return redirect(back)
    if queue_alert(delivery.pk):
        messages.success(request, f"The alert to {who} is queued to be sent again.")
    else:
        messages.error(
            request,
            f"The alert to {who} could not be queued: the task queue does not answer. "
            "Try again in a few minutes.",
        )
    return redirect(back)
