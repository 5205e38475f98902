from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from portal.models import User


def test_administrator_role_manages_agencies_without_being_superuser(
    signed_in: Callable[[User], Client], administrator: User
) -> None:
    assert not administrator.is_superuser

    response = signed_in(administrator).get(reverse("admin:portal_agency_changelist"))

    assert response.status_code == 200


def test_help_desk_cannot_open_the_admin_site(
    signed_in: Callable[[User], Client], helpdesk: User
) -> None:
    response = signed_in(helpdesk).get(reverse("admin:index"))

    assert response.status_code == 403
