from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from portal.models import User
from portal.roles import Role


class PortalAdminSite(admin.AdminSite):
    """The admin site behind the portal's own sign-in: password, then MFA; only users
    with the administrator role get in."""

    site_header = "CJIS Portal administration"
    site_title = "CJIS Portal administration"
    index_title = "Administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            isinstance(user, User)
            and user.is_active
            and user.is_staff
            and user.is_fully_signed_in()
            and user.has_role(Role.ADMINISTRATOR)
        )

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        query = urlencode({"next": request.GET.get("next", reverse("admin:index"))})
        return HttpResponseRedirect(f"{reverse('portal:login')}?{query}")

    # The portal's own sign-out (audited), not the admin's template page.
    def logout(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        from portal.views.signin import logout_view

        return logout_view(request)
