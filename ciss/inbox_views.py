"""Inbox pages: the recipient's list of exchanges (with filters and search, refreshed by
htmx polling), one exchange as a readable document with its acknowledge button, the alert
preference, the sending agency's view of what it sent with each recipient's state, and
attachment files served for viewing in the browser.

Lookups go through ``ciss.inbox``'s access functions (404 for anything not the user's);
opening and acknowledging go through ``ciss.exchanges.delivery`` and are audited there.
"""

import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ciss import inbox
from ciss.exchanges.delivery import delivery_acknowledge, delivery_open
from ciss.models import (
    AlertChannel,
    DeliveryStatus,
    DeliveryTransitionError,
    Exchange,
    ExchangeAttachment,
    ExchangeType,
)
from ciss.ranges import RangeNotSatisfiable, parse_range, read_range
from obts.access import RECORD_ROLES
from portal.access import acting_user, require_roles
from portal.forms import PortalForm
from portal.models import User

PAGE_SIZE = 25
# How often the inbox page asks whether anything changed.
POLL_SECONDS = 5
# Attachment files are shown by the browser's own viewers (PDF, image, media), framed in
# the exchange's page or opened in a tab of their own: framed by the portal only, and
# nothing else loaded into them. The policy applies to the document the browser builds
# around the file: Chromium styles its image documents inline, and Chromium versions whose
# PDF viewer is a plugin need object-src. The bytes are never HTML (type found from the
# file's first bytes, served with nosniff), so no markup of ours is loosened.
ATTACHMENT_CSP = (
    "default-src 'none'; object-src 'self'; img-src 'self'; media-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
DATE_INPUT = forms.DateInput(attrs={"type": "date"})
KIND_LABELS = {
    "pdf": "PDF document",
    "image": "Image",
    "audio": "Audio recording",
    "video": "Video",
}
# Images every current browser shows in an <img> (not TIFF: only Safari does).
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


# ---------------------------------------------------------------------------------------
# Forms


class InboxFilterForm(PortalForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="The person's name, an incident or docket number, or the sending agency.",
    )
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *ExchangeType.choices]
    )
    court = forms.ChoiceField(label="Court", required=False)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Any status"),
            (inbox.UNREAD, "Unread"),
            (DeliveryStatus.READ, "Read, not acknowledged"),
            (inbox.NOT_ACKNOWLEDGED, "Not acknowledged"),
            (DeliveryStatus.ACKNOWLEDGED, "Acknowledged"),
        ],
    )
    received_from = forms.DateField(label="Received from", required=False, widget=DATE_INPUT)
    received_to = forms.DateField(label="Received to", required=False, widget=DATE_INPUT)
    court_date = forms.DateField(label="Court date", required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, courts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        court = cast(forms.ChoiceField, self.fields["court"])
        court.choices = [("", "Any court"), *courts]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "This date is before the “Received from” date.")
        return cleaned

    def filters(self) -> inbox.InboxFilters:
        if not self.is_bound or not self.is_valid():
            return inbox.InboxFilters()
        data = self.cleaned_data
        return inbox.InboxFilters(
            type=data["type"],
            court=data["court"],
            status=data["status"],
            received_from=data["received_from"],
            received_to=data["received_to"],
            court_date=data["court_date"],
            search=data["q"].strip(),
        )


class SentFilterForm(PortalForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="The person's name, or an incident or docket number.",
    )
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *ExchangeType.choices]
    )

    def filters(self) -> inbox.SentFilters:
        if not self.is_bound or not self.is_valid():
            return inbox.SentFilters()
        return inbox.SentFilters(type=self.cleaned_data["type"], search=self.cleaned_data["q"])


class AlertPreferenceForm(forms.Form):
    alert = forms.ChoiceField(
        label="How should the portal tell you of new items?",
        choices=AlertChannel.choices,
        widget=forms.RadioSelect,
    )


# ---------------------------------------------------------------------------------------
# Helpers


def _without_page(params: QueryDict) -> str:
    query = params.copy()
    query.pop("page", None)
    query.pop("version", None)
    return query.urlencode()


def _page(rows: Any, request: HttpRequest) -> Page[Any]:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _when(value: Any) -> str:
    return dateformat.format(timezone.localtime(value), r"F j, Y \a\t H:i") if value else ""


def _person_url(user: User, exchange: Exchange) -> str:
    """The subject's record (with the timeline), for those whose roles open records."""
    if exchange.person is None or not user.has_role(*RECORD_ROLES):
        return ""
    return reverse("obts:person", kwargs={"public_id": exchange.person.public_id})


def _attachments(exchange: Exchange) -> list[dict[str, Any]]:
    return [
        {
            "attachment": attachment,
            "kind": attachment.kind,
            "label": KIND_LABELS.get(attachment.kind, attachment.content_type),
            "shown_inline": attachment.content_type in INLINE_IMAGES,
            "url": reverse("ciss:attachment_file", kwargs={"public_id": attachment.public_id}),
        }
        for attachment in exchange.attachments.all()
    ]


def _document_context(user: User, exchange: Exchange) -> dict[str, Any]:
    return {
        "exchange": exchange,
        "document": inbox.exchange_document(
            exchange, court_name=inbox.court_name(exchange.court_code)
        ),
        "attachments": _attachments(exchange),
        "person_url": _person_url(user, exchange),
    }


# ---------------------------------------------------------------------------------------
# The inbox list


def _inbox_context(request: HttpRequest, user: User, version: str = "") -> dict[str, Any]:
    form = InboxFilterForm(request.GET or None, courts=inbox.court_choices())
    valid = not form.is_bound or form.is_valid()
    filters = form.filters()
    page = _page(inbox.inbox_deliveries(user, filters), request) if valid else None
    poll = request.GET.copy()
    poll["version"] = version or inbox.inbox_version(user)
    return {
        "form": form,
        "valid": valid,
        "filtering": filters.active,
        "page": page,
        "query": _without_page(request.GET),
        "poll_url": f"{reverse('ciss:inbox_items')}?{poll.urlencode()}",
        "poll_seconds": POLL_SECONDS,
    }


@require_roles(*inbox.INBOX_ROLES)
@require_GET
@never_cache
def inbox_view(request: HttpRequest) -> HttpResponse:
    """The exchanges delivered to the user, newest first, with filters and search."""
    context = _inbox_context(request, acting_user(request))
    return render(request, "ciss/inbox/list.html", context, status=200 if context["valid"] else 400)


@require_roles(*inbox.INBOX_ROLES)
@require_GET
@never_cache
def inbox_items_view(request: HttpRequest) -> HttpResponse:
    """The list alone, for the page's polling: 204 (htmx leaves the page as it is) while
    nothing changed since the version the page holds, or when the filters are invalid."""
    user = acting_user(request)
    version = inbox.inbox_version(user)
    if request.GET.get("version") == version:
        return HttpResponse(status=204)
    context = _inbox_context(request, user, version)
    if not context["valid"]:
        return HttpResponse(status=204)
    return render(request, "ciss/inbox/partials/items.html", {**context, "inbox_oob": True})


# ---------------------------------------------------------------------------------------
# One exchange, for its recipient


@require_roles(*inbox.INBOX_ROLES)
@require_GET
@never_cache
def inbox_detail_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The exchange as a document; opening it marks it read (audited)."""
    user = acting_user(request)
    delivery = delivery_open(
        delivery=inbox.access_delivery(user, public_id), actor=user, request=request
    )
    context = {
        **_document_context(user, delivery.exchange),
        "delivery": delivery,
        "may_acknowledge": delivery.can_become(DeliveryStatus.ACKNOWLEDGED),
    }
    return render(request, "ciss/inbox/detail.html", context)


@require_roles(*inbox.INBOX_ROLES)
@require_POST
def inbox_acknowledge_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    delivery = inbox.access_delivery(user, public_id)
    try:
        delivery_acknowledge(delivery=delivery, actor=user, request=request)
    except DeliveryTransitionError as error:
        if delivery.status == DeliveryStatus.ACKNOWLEDGED:
            messages.info(
                request,
                f"You already acknowledged this on {_when(delivery.acknowledged_at)}; "
                "nothing changed.",
            )
        else:
            messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Acknowledged. {delivery.exchange.sender_agency.name} can now see that you "
            "have it in hand.",
        )
    return redirect("ciss:inbox_detail", public_id=delivery.public_id)


# ---------------------------------------------------------------------------------------
# Alert preference


@require_roles(*inbox.INBOX_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def inbox_settings_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST":
        form = AlertPreferenceForm(request.POST)
        if form.is_valid():
            try:
                inbox.alert_preference_set(
                    user=user, alert=form.cleaned_data["alert"], request=request
                )
            except inbox.PreferenceRefused as refused:
                form.add_error("alert", str(refused))
            else:
                messages.success(
                    request, f"Saved: {AlertChannel(form.cleaned_data['alert']).label.lower()}."
                )
                return redirect("ciss:inbox_settings")
        status = 400
    else:
        form = AlertPreferenceForm(initial={"alert": inbox.alert_preference(user)})
        status = 200
    return render(request, "ciss/inbox/settings.html", {"form": form}, status=status)


# ---------------------------------------------------------------------------------------
# What the sending agency sent


@require_roles(*inbox.SENDER_ROLES)
@require_GET
@never_cache
def sent_view(request: HttpRequest) -> HttpResponse:
    """The exchanges the user's agency sent, with how many recipients have each state."""
    user = acting_user(request)
    form = SentFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    filters = form.filters()
    page = _page(inbox.sent_exchanges(user, filters), request) if valid else None
    context = {
        "form": form,
        "page": page,
        "filtering": filters.active,
        "query": _without_page(request.GET),
    }
    return render(request, "ciss/inbox/sent.html", context, status=200 if valid else 400)


@require_roles(*inbox.SENDER_ROLES)
@require_GET
@never_cache
def sent_detail_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One exchange the agency sent, and each recipient's delivery state (audited)."""
    user = acting_user(request)
    exchange = inbox.access_sent_exchange(user, public_id)
    inbox.sent_exchange_viewed(exchange=exchange, actor=user, request=request)
    context = {
        **_document_context(user, exchange),
        "deliveries": inbox.sent_deliveries(exchange),
        "status": DeliveryStatus,
    }
    return render(request, "ciss/inbox/sent_detail.html", context)


# ---------------------------------------------------------------------------------------
# Attachment files


def _attachment_response(request: HttpRequest, attachment: ExchangeAttachment) -> HttpResponseBase:
    """The whole file, or the byte range the browser asked for (a video player seeking)."""
    try:
        handle = attachment.file.open("rb")
        size = attachment.file.size
    except FileNotFoundError as missing:
        raise Http404("The file of this attachment is missing; tell the help desk.") from missing
    try:
        byte_range = parse_range(request.headers.get("Range", ""), size)
    except RangeNotSatisfiable:
        handle.close()
        response: HttpResponseBase = HttpResponse(
            status=416, content_type="text/plain; charset=utf-8"
        )
        response["Content-Range"] = f"bytes */{size}"
    else:
        if byte_range is None:
            response = FileResponse(
                handle,
                content_type=attachment.content_type,
                as_attachment=False,
                filename=attachment.original_name,
            )
        else:
            response = StreamingHttpResponse(
                read_range(handle, byte_range), status=206, content_type=attachment.content_type
            )
            response["Content-Length"] = str(byte_range.length)
            response["Content-Range"] = byte_range.content_range(size)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    return response


@require_roles(*inbox.ATTACHMENT_ROLES)
@require_GET
@never_cache
@xframe_options_sameorigin
def attachment_file_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """The attachment's bytes, shown inline by the browser, for its recipients and the
    sending agency. Each time it is opened is audited; the further pieces a video player
    asks for while it plays (ranges not starting at the first byte) are not audited
    again, so one viewing is one audit row rather than dozens."""
    user = acting_user(request)
    attachment = inbox.access_attachment(user, public_id)
    response = _attachment_response(request, attachment)
    if response.status_code == 200 or response.get("Content-Range", "").startswith("bytes 0-"):
        inbox.attachment_viewed(attachment=attachment, actor=user, request=request)
    return response
