"""API clients of agencies' systems: issue a key (shown once), see use, revoke."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import services
from portal.access import acting_user, require_roles
from portal.forms import ApiClientForm
from portal.models import ApiClient
from portal.roles import Role

CLIENT_MANAGERS = (Role.CJIS_SECURITY, Role.ADMINISTRATOR)


@require_roles(*CLIENT_MANAGERS)
@require_GET
def client_list_view(request: HttpRequest) -> HttpResponse:
    clients = ApiClient.objects.select_related("agency").order_by("agency__name", "name")
    return render(request, "portal/api_clients.html", {"clients": clients})


@require_roles(*CLIENT_MANAGERS)
@never_cache
@require_http_methods(["GET", "POST"])
def client_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client, key, created = services.api_client_issue_key(
                agency=form.cleaned_data["agency"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=acting_user(request),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(
                request,
                "portal/api_client_key.html",
                {"client": client, "key": key, "created": created},
            )
    return render(request, "portal/api_client_form.html", {"form": form})


@require_roles(*CLIENT_MANAGERS)
@require_POST
def client_revoke_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    client = get_object_or_404(ApiClient.objects.select_related("agency"), public_id=public_id)
    services.api_client_revoke(actor=acting_user(request), client=client, request=request)
    messages.success(request, f"The key of {client.name} ({client.agency.ori}) is revoked.")
    return redirect("portal:api_clients")
