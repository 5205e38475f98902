"""RMS vendor certification in the portal: each records system's client with its latest
report, the report itself, and (for CJIS staff) running the checks again.

CJIS staff see every client that submits exchanges; an agency manager sees the clients of
their own agency."""

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ciss.exchanges.certification import MIN_NOTICES, MIN_PACKETS, certification_run
from ciss.models import CertificationReport
from portal.access import acting_user, require_roles
from portal.models import ApiClient, User
from portal.models.api_clients import ApiScope
from portal.roles import Role

CERTIFIERS = (Role.CJIS_SECURITY, Role.ADMINISTRATOR)
CERTIFICATION_READERS = (*CERTIFIERS, Role.AGENCY_MANAGER)


def _submitting_clients(user: User) -> list[ApiClient]:
    # JSON containment is not portable to SQLite: filter the scopes in Python.
    clients = ApiClient.objects.select_related("agency").order_by("agency__name", "name")
    if not user.has_role(*CERTIFIERS):
        clients = clients.filter(agency__users=user)
    return [c for c in clients if ApiScope.EXCHANGES_SUBMIT in c.scopes]


def access_client(user: User, public_id: uuid.UUID) -> ApiClient:
    """A client whose certification ``user`` may see; 404 for any other."""
    for client in _submitting_clients(user):
        if client.public_id == public_id:
            return client
    raise Http404


@require_roles(*CERTIFICATION_READERS)
@require_GET
def certification_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    clients = _submitting_clients(user)
    latest: dict[int, CertificationReport] = {}
    for report in CertificationReport.objects.filter(api_client__in=clients).order_by("run_at"):
        latest[report.api_client_id] = report
    rows = [(client, latest.get(client.pk)) for client in clients]
    return render(
        request,
        "ciss/certification/list.html",
        {
            "rows": rows,
            "can_run": user.has_role(*CERTIFIERS),
            "min_notices": MIN_NOTICES,
            "min_packets": MIN_PACKETS,
        },
    )


@require_roles(*CERTIFICATION_READERS)
@require_GET
def certification_client_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    client = access_client(user, public_id)
    reports = list(client.certification_reports.select_related("run_by")[:20])
    return render(
        request,
        "ciss/certification/client.html",
        {
            "client": client,
            "report": reports[0] if reports else None,
            "earlier": reports[1:],
            "can_run": user.has_role(*CERTIFIERS),
        },
    )


@require_roles(*CERTIFIERS)
@require_POST
def certification_run_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    client = access_client(user, public_id)
    report = certification_run(client=client, actor=user)
    level = f"level {report.level}" if report.level else "no level yet"
    messages.success(request, f"Checks run for {client.name}: {level}.")
    return redirect("ciss:certification_client", public_id=client.public_id)
