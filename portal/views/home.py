from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal import selectors, services
from portal.access import acting_user, signed_in
from portal.roles import CLAIM_DESCRIPTIONS, Claim
from portal.views.signin import BACKUP_CODES_KEY


@signed_in
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    claims = [
        {"code": code, "label": Claim(code).label, "description": CLAIM_DESCRIPTIONS[code]}
        for code in Claim.values
        if code in user.claim_codes
    ]
    context = {
        "profile": user,
        "claims": claims,
        "mfa": selectors.user_mfa_devices(user),
        "activity": selectors.user_recent_activity(user),
    }
    return render(request, "portal/home.html", context)


@signed_in
@require_POST
def backup_codes_regenerate_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    request.session[BACKUP_CODES_KEY] = services.mfa_backup_codes_regenerate(
        user=user, request=request
    )
    messages.success(request, "New backup codes were made; the old ones no longer work.")
    return redirect("portal:mfa_backup_codes")
