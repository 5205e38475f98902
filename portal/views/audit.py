"""The auditors' view of the audit log: filter, page through, export."""

import csv
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal import audit, selectors
from portal.access import require_roles
from portal.forms import AuditFilterForm
from portal.models import AuditEvent
from portal.roles import Role

AUDIT_READERS = (Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR)
PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "occurred_at_utc",
    "username",
    "agency_ori",
    "api_client",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "ip",
    "user_agent",
    "details",
]


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    actions = sorted(audit.ACTION_LABELS.items(), key=lambda item: item[1])
    return AuditFilterForm(request.GET or None, actions=actions)


def _filters(form: AuditFilterForm) -> dict[str, Any]:
    if not form.is_bound or not form.is_valid():
        return {}
    data = form.cleaned_data
    return {
        "username": data["user"].strip(),
        "agency_ori": data["agency"].strip(),
        "action": data["action"],
        "start": data["start"],
        "end": data["end"],
    }


@require_roles(*AUDIT_READERS)
@require_GET
def audit_log_view(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = _filters(form)
    events = selectors.audit_events(**filters) if not form.errors else AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode(), "labels": audit.ACTION_LABELS},
    )


def _cell(value: Any) -> Any:
    """Keep spreadsheet programs from reading a typed value as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            _cell(value)
            for value in [
                event.seq,
                event.occurred_at.astimezone(UTC).isoformat(),
                event.actor_username,
                event.agency.ori if event.agency else "",
                event.api_client.name if event.api_client else "",
                event.action,
                event.outcome,
                event.object_type,
                event.object_id,
                event.ip,
                event.user_agent,
                json.dumps(event.details, sort_keys=True),
            ]
        )


@require_roles(*AUDIT_READERS)
@require_GET
def audit_export_view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "portal/audit_log.html", {"form": form, "page": None}, status=400)
    filters = _filters(form)
    events = selectors.audit_events(**filters)
    audit.record(
        "audit.exported",
        request=request,
        details={
            "filters": {key: str(value) for key, value in filters.items() if value},
            "rows": events.count(),
        },
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
