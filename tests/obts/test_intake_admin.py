"""The OBTS models in the admin site: readable, corrections audited and reflected in the
person's flags, provenance read-only, records neither added nor deleted there."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from obts.models import Flag, Person, Warrant
from obts.services.feeds import feed_kind, feed_records_upsert
from obts.services.intake import Submitter
from portal.models import AuditEvent, User
from tests.obts.factories import create_person, feed_body

pytestmark = pytest.mark.django_db

MODELS = [
    "person",
    "case",
    "sentence",
    "custodyperiod",
    "supervision",
    "protectiveorder",
    "warrant",
    "registration",
    "infraction",
    "possibleduplicate",
    "personmerge",
]


@pytest.fixture
def superuser(administrator: User) -> User:
    """The administrator with every model permission (the admin site checks them)."""
    administrator.is_superuser = True
    administrator.save(update_fields=["is_superuser"])
    return administrator


@pytest.fixture
def warrant(db: None) -> Warrant:
    create_person(caution="")
    kind = feed_kind("warrants")
    assert kind is not None
    feed_records_upsert(kind, [feed_body("warrants")], submitter=Submitter(command="test"))
    return Warrant.objects.get()


@pytest.mark.usefixtures("warrant")
@pytest.mark.parametrize("model", MODELS)
def test_administrator_sees_the_list_of_each_obts_model(
    signed_in: Callable[[User], Client], superuser: User, model: str
) -> None:
    response = signed_in(superuser).get(reverse(f"admin:obts_{model}_changelist"))
    assert response.status_code == 200


def test_records_cannot_be_added_in_the_admin(
    signed_in: Callable[[User], Client], superuser: User
) -> None:
    response = signed_in(superuser).get(reverse("admin:obts_warrant_add"))
    assert response.status_code == 403


def test_correcting_a_warrant_updates_flags_and_is_audited(
    signed_in: Callable[[User], Client], superuser: User, warrant: Warrant
) -> None:
    url = reverse("admin:obts_warrant_change", args=[warrant.pk])
    response = signed_in(superuser).post(
        url,
        {
            "kind": warrant.kind,
            "warrant_number": warrant.warrant_number,
            "issued_on": str(warrant.issued_on),
            "court": warrant.court,
            "offense": warrant.offense,
            "status": "vacated",
            "served_on": "",
            "vacated_on": "2026-01-07",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Flag.WANTED not in Person.objects.get().flags
    assert AuditEvent.objects.filter(action="admin.changed").exists()


def test_provenance_is_read_only_in_the_admin(
    signed_in: Callable[[User], Client], superuser: User, warrant: Warrant
) -> None:
    url = reverse("admin:obts_warrant_change", args=[warrant.pk])
    page = signed_in(superuser).get(url).content.decode()
    assert 'name="source_id"' not in page
    assert 'name="person"' not in page
    assert warrant.source_id in page
