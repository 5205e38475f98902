from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from portal.models import User


def test_signed_in_officer_sees_home(signed_in: Callable[[User], Client], officer: User) -> None:
    response = signed_in(officer).get(reverse("portal:home"))
    assert response.status_code == 200
    assert b"Hartford Police Department" in response.content
