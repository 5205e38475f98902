"""Authentication loads the signed-in user by primary key on every request; that load is
one statement written out (``User.with_agency.get(pk=...)``). It must give what the ORM
gives: the same user field by field, the same agency already attached, the same error
for an unknown id, and any other lookup still goes through the ORM."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.models import Agency, User
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _fields(instance: object) -> dict[str, object]:
    meta = type(instance)._meta  # type: ignore[attr-defined]
    return {field.attname: getattr(instance, field.attname) for field in meta.concrete_fields}


def test_by_primary_key_the_user_and_agency_are_the_orms(officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(
        password_changed_at=timezone.now() - timedelta(days=3),
        last_login=timezone.now(),
        must_change_password=True,
    )
    stored = User.objects.select_related("agency").get(pk=officer.pk)

    with CaptureQueriesContext(connection) as queries:
        loaded = User.with_agency.get(pk=officer.pk)
        agency = loaded.agency

    assert len(queries) == 1  # the agency came with the user
    assert _fields(loaded) == _fields(stored)
    assert agency is not None
    assert stored.agency is not None
    assert _fields(agency) == _fields(stored.agency)
    assert loaded.must_change_password is True
    assert loaded.is_active is True
    assert timezone.is_aware(loaded.date_joined)
    assert loaded._state.adding is False
    assert loaded._state.db == "default"


def test_a_user_without_an_agency_loads_with_none(helpdesk: User) -> None:
    User.objects.filter(pk=helpdesk.pk).update(agency=None)

    with CaptureQueriesContext(connection) as queries:
        loaded = User.with_agency.get(pk=helpdesk.pk)
        assert loaded.agency is None

    assert len(queries) == 1


@pytest.mark.parametrize("pk", [987654, 2**70])
def test_an_unknown_id_raises_as_the_orm_does(pk: int, db: None) -> None:
    with pytest.raises(User.DoesNotExist, match="User matching query does not exist"):
        User.with_agency.get(pk=pk)


def test_other_lookups_still_go_through_the_orm(officer: User, agency: Agency) -> None:
    assert User.with_agency.get(username=officer.username) == officer
    assert User.with_agency.get(pk=str(officer.pk)) == officer
    User.objects.create_user("second", password="x" * 16, agency=agency)
    with pytest.raises(User.MultipleObjectsReturned):
        User.with_agency.get(agency=agency)


def test_a_saved_loaded_user_updates_the_row(officer: User) -> None:
    loaded = User.with_agency.get(pk=officer.pk)
    loaded.title = "Sergeant"
    loaded.save(update_fields=["title"])

    assert User.objects.get(pk=officer.pk).title == "Sergeant"
    assert User.objects.count() == 1


def test_a_signed_in_request_gets_its_user_and_agency_by_one_statement(
    client: Client, officer: User
) -> None:
    sign_in(client, officer)
    request = client.get("/").wsgi_request
    request.session = client.session
    with CaptureQueriesContext(connection) as queries:
        user = get_user(request)
        assert isinstance(user, User)
        assert user.pk == officer.pk
        assert user.agency == officer.agency
    tables = [User._meta.db_table in query["sql"] for query in queries.captured_queries]
    assert tables.count(True) == 1
