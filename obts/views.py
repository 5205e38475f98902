"""OBTS pages: the person record, the statistical reports, and the review of possible
duplicates and merges."""

import csv
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from obts import charts, merging, record_cache, reports
from obts.access import (
    RECORD_ROLES,
    RECORD_VIEWED,
    PersonRecordView,
    Purpose,
    access_person_record,
    purpose_label,
    shown_viewed,
    visibility_for,
)
from obts.models import Flag, Person, PersonMerge, PossibleDuplicate
from obts.selectors import survivor_of
from portal import audit
from portal.access import acting_user, require_roles
from portal.models import AuditEvent
from portal.roles import Claim, Role

REPORT_ROLES = (Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR, Role.AGENCY_MANAGER)

# Badge colours: what stops an officer first is red.
FLAG_STYLES: dict[str, str] = {
    Flag.WANTED: "bg-secondary-dark",
    Flag.OFFICER_CAUTION: "bg-secondary-darker",
    Flag.PROTECTIVE_ORDER: "bg-accent-warm-darker",
    Flag.SEX_OFFENDER: "bg-violet",
    Flag.PAROLE: "bg-primary-dark",
    Flag.PROBATION: "bg-primary-dark",
    Flag.RECENTLY_ARRESTED: "bg-base-darkest",
    Flag.RECENTLY_RELEASED: "bg-base-darkest",
    Flag.PENDING_CASE: "bg-base-dark",
    Flag.BAIL_CONDITIONS: "bg-base-dark",
}


class PurposeForm(forms.Form):
    purpose = forms.ChoiceField(
        label="Purpose of this look-up",
        choices=[("", "- Select -"), *Purpose.choices],
        help_text="Recorded in the audit log with the records you are shown.",
        widget=forms.Select(attrs={"class": "usa-select"}),
    )


def _height(inches: int | None) -> str:
    return f"{inches // 12} ft {inches % 12} in" if inches else ""


@require_roles(*RECORD_ROLES)
@require_GET
@never_cache
def person_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    form = PurposeForm(request.GET if "purpose" in request.GET else None)
    if not form.is_valid():
        return render(
            request,
            "obts/purpose.html",
            {"form": form},
            status=400 if form.is_bound else 200,
        )
    purpose = form.cleaned_data["purpose"]
    user = acting_user(request)
    visibility = visibility_for(user)
    person, merged_ids = survivor_of(public_id)
    today = timezone.localdate()
    cache_key = record_cache.key("page", person.pk, visibility, today)
    entry = record_cache.get(cache_key)
    if entry is None:
        view = access_person_record(user, public_id, today=today, survivor=(person, merged_ids))
        name = view.record.primary_name
        entry = {
            "body": render_to_string("obts/partials/record_body.html", _body_context(view)),
            "shown": view.shown(),
            "name": str(name) if name else "",
            "born": name.dob.isoformat() if name and name.dob else "",
        }
        record_cache.put(cache_key, entry)
    shown_viewed(
        person,
        shown=entry["shown"],
        requested_id=public_id,
        merged_ids=merged_ids,
        purpose=purpose,
        request=request,
    )
    context = {
        "person": person,
        "may_see_views": user.has_role(*VIEW_HISTORY_ROLES),
        "name": entry["name"],
        "born": entry["born"],
        # Rendered from our own template, every value escaped there.
        "body": mark_safe(entry["body"]),  # noqa: S308
        "merged_ids": merged_ids,
        "requested_id": public_id,
        "purpose_label": Purpose(purpose).label,
    }
    return render(request, "obts/person_detail.html", context)


def _body_context(view: PersonRecordView) -> dict[str, Any]:
    return {
        "view": view,
        "record": view.record,
        "person": view.record.person,
        "visibility": view.visibility,
        "flags": [
            {"code": flag, "label": Flag(flag).label, "style": FLAG_STYLES[flag]}
            for flag in view.flags
        ],
        "height": _height(view.record.person.height_in),
        "claims": {
            "criminal_history": Claim.CRIMINAL_HISTORY.label,
            "registry": Claim.SEX_OFFENDER_REGISTRY.label,
        },
    }


# ---------------------------------------------------------------------------------------
# Who viewed a record

# Supervisors (agency managers, for their own agency's users) and those who audit.
VIEW_HISTORY_ROLES = (Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR, Role.AGENCY_MANAGER)
VIEWS_LISTED = "obts.record.views_listed"
VIEWS_PAGE_SIZE = 50


@dataclass(frozen=True)
class RecordViewRow:
    occurred_at: Any
    who: str
    agency: str
    through: str
    purpose: str
    shown: str


# Kinds of record as a view's audit row lists them: (one, several).
SHOWN_KINDS = {
    "cases": ("case", "cases"),
    "sentences": ("sentence", "sentences"),
    "custody": ("custody period", "custody periods"),
    "supervision": ("supervision", "supervisions"),
    "protective_orders": ("protective order", "protective orders"),
    "warrants": ("warrant", "warrants"),
    "registrations": ("registration", "registrations"),
    "infractions": ("infraction", "infractions"),
}


def _shown_summary(records: Any) -> str:
    if not isinstance(records, dict) or not any(records.values()):
        return "Identifying data and flags only"
    parts = []
    for kind, ids in records.items():
        one, several = SHOWN_KINDS.get(kind, (kind, kind))
        if ids:
            parts.append(f"{len(ids)} {one if len(ids) == 1 else several}")
    return ", ".join(parts)


@require_roles(*VIEW_HISTORY_ROLES)
@require_GET
@never_cache
def person_views_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Every view of a person's record (page or API), newest first, with who looked, from
    which agency, through what, why, and what they were shown. An agency manager sees the
    views by their own agency's users and systems; auditors, CJIS security and
    administrators see all. Listing them is itself audited."""
    user = acting_user(request)
    person, _ = survivor_of(public_id)
    events = (
        AuditEvent.objects.filter(
            action=RECORD_VIEWED, object_type="obts.person", object_id=str(person.public_id)
        )
        .select_related("agency", "api_client")
        .order_by("-occurred_at", "-seq")
    )
    own_agency_only = not user.has_role(Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR)
    if own_agency_only:
        # A manager without an agency sees nothing rather than everything.
        events = events.filter(agency_id=user.agency_id or 0)
    page = Paginator(events, VIEWS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        RecordViewRow(
            occurred_at=event.occurred_at,
            who=event.actor_username or (event.api_client.name if event.api_client else "—"),
            agency=event.agency.name if event.agency else "—",
            through=f"API: {event.api_client.name}" if event.api_client else "Record page",
            purpose=purpose_label(event.details.get("purpose")),
            shown=_shown_summary(event.details.get("records")),
        )
        for event in page.object_list
    ]
    names = person.names.filter(is_primary=True).first()
    audit.record(
        VIEWS_LISTED,
        request=request,
        target=person,
        details={"page": page.number, "own_agency_only": own_agency_only},
    )
    return render(
        request,
        "obts/person_views.html",
        {
            "person": person,
            "name": str(names) if names else "Name not recorded",
            "page": page,
            "rows": rows,
            "own_agency_only": own_agency_only,
            "agency": user.agency,
        },
    )


# ---------------------------------------------------------------------------------------
# Statistical reports


class PeriodForm(forms.Form):
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "usa-input"}),
        help_text="Leave empty for a year before the end date.",
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "usa-input"}),
        help_text="Leave empty for today.",
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=365)
        if isinstance(start, date) and isinstance(end, date) and start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        data["period"] = reports.Period(start=start, end=end)
        return data


def _period(request: HttpRequest) -> tuple[PeriodForm, reports.Period | None]:
    form = PeriodForm(request.GET)
    return form, form.cleaned_data["period"] if form.is_valid() else None


@require_roles(*REPORT_ROLES)
@require_GET
def reports_view(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    if period is None:
        return render(request, "obts/reports.html", {"form": form}, status=400)
    built = reports.reports_all(period)
    audit.record(
        reports.REPORT_VIEWED,
        request=request,
        details={"start": period.start.isoformat(), "end": period.end.isoformat()},
    )
    context = {
        "form": form,
        "period": period,
        "reports": built,
        "sections": [(report, charts.report_chart(report)) for report in built],
        "query": f"start={period.start.isoformat()}&end={period.end.isoformat()}",
    }
    return render(request, "obts/reports.html", context)


@require_roles(*REPORT_ROLES)
@require_GET
def report_export_view(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("report", "")
    form, period = _period(request)
    if slug not in reports.REPORTS:
        raise Http404("No such report.")
    if period is None:
        return render(request, "obts/reports.html", {"form": form}, status=400)
    report = reports.report_build(slug, period)
    audit.record(
        reports.REPORT_EXPORTED,
        request=request,
        details={
            "report": slug,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "rows": len(report.rows),
        },
    )
    filename = f"obts-{slug}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    writer = csv.writer(response)
    writer.writerow(report.columns)
    writer.writerows([_csv_cell(cell) for cell in row] for row in report.rows)
    return response


def _csv_cell(value: reports.Cell) -> reports.Cell:
    """Keep spreadsheet programs from reading a value sent by a source system as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# ---------------------------------------------------------------------------------------
# Possible duplicates and merges (CJIS staff)

MERGE_ROLES = (Role.CJIS_SECURITY, Role.ADMINISTRATOR)
REVIEW_PAGE_SIZE = 25


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.TextInput(attrs={"class": "usa-input"}),
        help_text="Recorded in the audit log.",
    )


class DuplicateDecisionForm(ReasonForm):
    duplicate = forms.IntegerField(widget=forms.HiddenInput)
    survivor = forms.UUIDField(required=False, widget=forms.HiddenInput)


class MergeUndoForm(ReasonForm):
    merge = forms.IntegerField(widget=forms.HiddenInput)


def _page(request: HttpRequest, items: Any) -> Page[Any]:
    return Paginator(items, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@require_roles(*MERGE_ROLES)
@require_GET
def duplicates_view(request: HttpRequest) -> HttpResponse:
    page = _page(request, merging.duplicates_open())
    return render(request, "obts/duplicates.html", {"page": page})


@require_roles(*MERGE_ROLES)
@require_POST
def duplicate_merge_view(request: HttpRequest) -> HttpResponse:
    form = DuplicateDecisionForm(request.POST)
    if not form.is_valid() or form.cleaned_data["survivor"] is None:
        messages.error(request, _form_errors(form) or "Choose the person to keep.")
        return redirect("obts:duplicates")
    duplicate = get_object_or_404(PossibleDuplicate, pk=form.cleaned_data["duplicate"])
    survivor = get_object_or_404(Person, public_id=form.cleaned_data["survivor"])
    try:
        merge = merging.duplicate_merge(
            actor=acting_user(request),
            duplicate=duplicate,
            survivor=survivor,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("obts:duplicates")
    messages.success(
        request,
        f"Merged {merging.merged_label(merge)} into {merge.survivor}. The merge can be undone.",
    )
    return redirect("obts:duplicates")


@require_roles(*MERGE_ROLES)
@require_POST
def duplicate_dismiss_view(request: HttpRequest) -> HttpResponse:
    form = DuplicateDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("obts:duplicates")
    duplicate = get_object_or_404(PossibleDuplicate, pk=form.cleaned_data["duplicate"])
    try:
        merging.duplicate_dismiss(
            actor=acting_user(request),
            duplicate=duplicate,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Marked as two different people.")
    return redirect("obts:duplicates")


@require_roles(*MERGE_ROLES)
@require_GET
def merges_view(request: HttpRequest) -> HttpResponse:
    page = _page(request, merging.merges_recent())
    rows = merging.merge_rows(page.object_list)
    return render(request, "obts/merges.html", {"page": page, "rows": rows})


@require_roles(*MERGE_ROLES)
@require_POST
def merge_undo_view(request: HttpRequest) -> HttpResponse:
    form = MergeUndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("obts:merges")
    merge = get_object_or_404(PersonMerge, pk=form.cleaned_data["merge"])
    try:
        merging.person_merge_undo(
            actor=acting_user(request),
            merge=merge,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The merge is undone: both persons have their records back.")
    return redirect("obts:merges")
