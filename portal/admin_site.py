from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from portal.roles import Role


class PortalAdminSite(admin.AdminSite):
    """The admin site behind the portal's own sign-in: password, then MFA; only users
    with the administrator role get in."""

    site_header = "CJIS Portal administration"
    site_title = "CJIS Portal administration"
    index_title = "Administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(
            user.is_active
            and user.is_authenticated
            and user.is_staff
            and user.is_verified()
            and user.has_role(Role.ADMINISTRATOR)
        )

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        query = urlencode({"next": request.GET.get("next", reverse("admin:index"))})
        return HttpResponseRedirect(f"{reverse('portal:login')}?{query}")

    def logout(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        from portal.views.signin import logout_view

        return logout_view(request)
