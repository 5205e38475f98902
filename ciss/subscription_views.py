"""The Following page: what the user follows (renew, stop), their recent alerts, and the
forms to follow a plate or a case; following a person is a button on each person found
by search.

Every page is for the roles that open person records; a user only ever sees and changes
their own subscriptions (``access_subscription``: 404 for anyone else's). The writes and
their audit rows are ``ciss.subscriptions``'s.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ciss import subscriptions
from ciss.models import Cadence, Subscription, SubscriptionKind, SubscriptionTransitionError
from ciss.subscription_alerts import case_visible
from ciss.subscription_tasks import email_alerts
from obts.access import RECORD_ROLES, visibility_for
from obts.selectors import Visibility, survivor_of
from portal.access import acting_user, require_roles
from portal.forms import PortalForm

logger = logging.getLogger(__name__)
FOLLOWED_PARTIAL = "ciss/subscriptions/partials/followed.html"
CADENCE_HELP = (
    "Alerts always appear on this page. The e-mail never says what changed, only that "
    "something did."
)


def _cadence(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=Cadence.choices, initial=Cadence.REALTIME, help_text=CADENCE_HELP
    )


class PlateFollowForm(PortalForm):
    plate = forms.CharField(
        label="Plate",
        max_length=30,
        help_text="Spaces and dashes are ignored; O and 0, I and 1 are read alike.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    state = forms.CharField(
        label="State",
        max_length=2,
        help_text="Two letters, such as CT.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    plate_cadence = _cadence("E-mail me")


class CaseFollowForm(PortalForm):
    number = forms.CharField(
        label="Docket or incident number",
        max_length=40,
        help_text="The court's docket number, or the arresting agency's incident number.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    case_cadence = _cadence("E-mail me")


class PersonFollowForm(forms.Form):
    person = forms.UUIDField()
    cadence = forms.ChoiceField(choices=Cadence.choices, required=False)


# ---------------------------------------------------------------------------------------
# The page


@dataclass(frozen=True)
class FollowedRow:
    subscription: Subscription
    label: str
    url: str
    ends_soon: bool
    days_left: int


def _person_url(public_id: uuid.UUID | None) -> str:
    return reverse("obts:person", kwargs={"public_id": public_id}) if public_id else ""


def _plate_search_url(subscription: Subscription) -> str:
    query = {"kind": "vehicle", "plate": subscription.plate, "state": subscription.plate_state}
    return f"{reverse('ciss:search')}?{urlencode(query)}"


def _row(subscription: Subscription, visibility: Visibility, now: datetime) -> FollowedRow:
    label, url = subscription.target_label, ""
    if subscription.kind == SubscriptionKind.PERSON and subscription.person is not None:
        url = _person_url(subscription.person.public_id)
    elif subscription.kind == SubscriptionKind.CASE and subscription.case is not None:
        if case_visible(subscription.case, visibility):
            label = f"{label} ({subscription.case.person})"
            url = _person_url(subscription.case.person.public_id)
        else:
            label = "A case no longer shown to you"
    elif subscription.kind == SubscriptionKind.PLATE:
        label = f"{subscription.plate_state} {subscription.plate}"
        url = _plate_search_url(subscription)
    return FollowedRow(
        subscription=subscription,
        label=label,
        url=url,
        ends_soon=subscriptions.ends_soon(subscription, now),
        days_left=max(0, (subscription.expires_at - now).days),
    )


def _page(
    request: HttpRequest,
    *,
    plate_form: PlateFollowForm | None = None,
    case_form: CaseFollowForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    now = timezone.now()
    visibility = visibility_for(user)
    shown = subscriptions.alerts_show(user=user, request=request)
    context = {
        "rows": [_row(s, visibility, now) for s in subscriptions.subscriptions_of(user)],
        "alerts": [
            {
                "shown": item,
                "person_url": _person_url(item.alert.person_public_id),
                "inbox_url": reverse("ciss:inbox_detail", kwargs={"public_id": item.inbox_id})
                if item.inbox_id
                else "",
                "plate_url": _plate_search_url(item.alert.subscription)
                if item.alert.subscription.kind == SubscriptionKind.PLATE
                else "",
            }
            for item in shown
        ],
        "new_count": sum(item.new for item in shown),
        "plate_form": plate_form or PlateFollowForm(),
        "case_form": case_form or CaseFollowForm(),
        "reminder_days": settings.CISS_SUBSCRIPTION_REMINDER_DAYS,
        "subscription_days": settings.CISS_SUBSCRIPTION_DAYS,
        "cadence_choices": Cadence.choices,
    }
    return render(request, "ciss/subscriptions/following.html", context, status=status)


@require_roles(*RECORD_ROLES)
@require_GET
@never_cache
def following_view(request: HttpRequest) -> HttpResponse:
    """What the user follows and their latest alerts (shown alerts become seen)."""
    return _page(request)


# ---------------------------------------------------------------------------------------
# Following


def _followed(request: HttpRequest, subscription: Subscription) -> None:
    until = timezone.localtime(subscription.expires_at).date().isoformat()
    messages.success(
        request,
        f"You now follow {subscription.target_label}, until {until}. Alerts appear on this page.",
    )


@require_roles(*RECORD_ROLES)
@require_POST
def follow_plate_view(request: HttpRequest) -> HttpResponse:
    form = PlateFollowForm(request.POST)
    if form.is_valid():
        try:
            subscription = subscriptions.follow_plate(
                user=acting_user(request),
                plate=form.cleaned_data["plate"],
                state=form.cleaned_data["state"],
                cadence=form.cleaned_data["plate_cadence"],
                request=request,
            )
        except subscriptions.AlreadyFollowing as already:
            messages.info(request, str(already))
            return redirect("ciss:following")
        except subscriptions.FollowRefused as refused:
            form.add_error(None, str(refused))
        else:
            _followed(request, subscription)
            return redirect("ciss:following")
    return _page(request, plate_form=form, status=400)


@require_roles(*RECORD_ROLES)
@require_POST
def follow_case_view(request: HttpRequest) -> HttpResponse:
    form = CaseFollowForm(request.POST)
    if form.is_valid():
        try:
            subscription = subscriptions.follow_case(
                user=acting_user(request),
                number=form.cleaned_data["number"],
                cadence=form.cleaned_data["case_cadence"],
                request=request,
            )
        except subscriptions.AlreadyFollowing as already:
            messages.info(request, str(already))
            return redirect("ciss:following")
        except subscriptions.FollowRefused as refused:
            form.add_error("number", str(refused))
        else:
            _followed(request, subscription)
            return redirect("ciss:following")
    return _page(request, case_form=form, status=400)


@require_roles(*RECORD_ROLES)
@require_POST
def follow_person_view(request: HttpRequest) -> HttpResponse:
    """The "Follow this person" button of search results. With htmx, answers the words
    that replace the button; without, goes to the Following page with a message."""
    form = PersonFollowForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose a person to follow.", status=400, content_type="text/plain")
    person, _ = survivor_of(form.cleaned_data["person"])
    try:
        subscription = subscriptions.follow_person(
            user=acting_user(request),
            person=person,
            cadence=form.cleaned_data["cadence"] or Cadence.REALTIME,
            request=request,
        )
    except subscriptions.AlreadyFollowing as already:
        message, level = "You already follow this person.", messages.INFO
        subscription = already.subscription
    else:
        until = timezone.localtime(subscription.expires_at).date().isoformat()
        message, level = f"You now follow this person, until {until}.", messages.SUCCESS
    if request.headers.get("HX-Request"):
        return render(request, FOLLOWED_PARTIAL, {"message": message})
    messages.add_message(request, level, f"{message} ({subscription.target_label})")
    return redirect("ciss:following")


# ---------------------------------------------------------------------------------------
# Renewing and stopping


@require_roles(*RECORD_ROLES)
@require_POST
def subscription_renew_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    subscription = subscriptions.access_subscription(user, public_id)
    try:
        renewed = subscriptions.renew(subscription=subscription, actor=user, request=request)
    except SubscriptionTransitionError as error:
        messages.error(request, str(error))
    else:
        until = timezone.localtime(renewed.expires_at).date().isoformat()
        messages.success(request, f"Renewed: you follow {renewed.target_label} until {until}.")
    return redirect("ciss:following")


def queue_follower_emails(alert_ids: list[int]) -> None:
    """E-mail alerts now; when the task queue does not answer, they stay on the Following
    page (every alert is shown there whether or not its e-mail went)."""
    try:
        email_alerts.delay(alert_ids)
    except Exception:  # the broker's errors vary by transport; none may fail the request
        logger.warning("follower alerts %s: e-mail not queued", alert_ids, exc_info=True)


class CadenceForm(forms.Form):
    cadence = forms.ChoiceField(choices=Cadence.choices)


@require_roles(*RECORD_ROLES)
@require_POST
def subscription_cadence_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Switch between an e-mail per change and one daily digest; alerts waiting for the
    digest go out at once when the follower switches to right away."""
    user = acting_user(request)
    subscription = subscriptions.access_subscription(user, public_id)
    form = CadenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how you want to be e-mailed: right away or once a day.")
        return redirect("ciss:following")
    try:
        with transaction.atomic():
            changed, waiting = subscriptions.cadence_change(
                subscription=subscription,
                cadence=form.cleaned_data["cadence"],
                actor=user,
                request=request,
            )
            if waiting:
                transaction.on_commit(lambda: queue_follower_emails(waiting))
    except SubscriptionTransitionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"E-mail for {changed.target_label}: {changed.get_cadence_display().lower()}.",
        )
    return redirect("ciss:following")


@require_roles(*RECORD_ROLES)
@require_POST
def subscription_stop_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    subscription = subscriptions.access_subscription(user, public_id)
    try:
        stopped = subscriptions.unfollow(subscription=subscription, actor=user, request=request)
    except SubscriptionTransitionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"You no longer follow {stopped.target_label}.")
    return redirect("ciss:following")
