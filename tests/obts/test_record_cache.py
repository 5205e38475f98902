"""The record cache: a repeated view is served from it, any change to the rows a record is
built from is shown at once, readers with other claims never share an entry, and every
view is audited, hit or miss."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from obts import record_cache
from obts.access import RECORD_VIEWED, Purpose
from obts.merging import person_merge
from obts.models import Case, Charge, Person, Warrant, WarrantStatus
from obts.selectors import Visibility
from obts.status import person_recompute
from obts.templatetags import records
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role
from tests.conftest import sign_in
from tests.factories import make_api_client
from tests.obts.factories_records import (
    CaseFactory,
    ChargeFactory,
    PersonFactory,
    WarrantFactory,
    cj_user,
    heavy_person,
    subject_with_every_kind_of_record,
)

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
EVERY_CLAIM = [
    Claim.CRIMINAL_HISTORY,
    Claim.JUVENILE_RECORDS,
    Claim.SEALED_RECORDS,
    Claim.SEX_OFFENDER_REGISTRY,
]
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the record cache runs on PostgreSQL only"
)


def page(client: Client, person: Person) -> str:
    url = reverse("obts:person", kwargs={"public_id": person.public_id})
    response = client.get(url, {"purpose": Purpose.CRIMINAL_INVESTIGATION})
    assert response.status_code == 200
    return response.content.decode()


def record_part(html: str) -> str:
    """The record itself, without the header (which holds a fresh CSRF token)."""
    return html[html.index('<section aria-labelledby="flags-heading"') : html.index("</main>")]


def audited_records() -> list[Any]:
    return [
        event.details["records"]
        for event in AuditEvent.objects.filter(action=RECORD_VIEWED).order_by("seq")
    ]


@postgres_only
def test_a_repeated_view_is_served_from_the_cache_and_audited_the_same(
    signed_in: SignIn, agency: Agency, django_assert_max_num_queries: Any
) -> None:
    person = heavy_person()
    client = signed_in(cj_user("officer", agency, claims=EVERY_CLAIM))
    first = page(client, person)

    # 5 to authenticate, 1 for the person, 1 for the fingerprint, the audit row.
    with django_assert_max_num_queries(16):
        again = page(client, person)

    assert record_part(again) == record_part(first)
    assert "Sentence imposed" in again
    records = audited_records()
    assert len(records) == 2
    assert records[0] == records[1]
    assert len(records[1]["cases"]) == 20


def test_a_warrant_served_after_a_view_is_shown_served(signed_in: SignIn, agency: Agency) -> None:
    person = PersonFactory.create()
    WarrantFactory.create(person=person, warrant_number="W-77")
    person_recompute(person)
    client = signed_in(cj_user("officer", agency, claims=EVERY_CLAIM))
    assert 'data-flag="wanted"' in page(client, person)

    # A write that sends no signal (as a bulk update or a SQL fix would).
    Warrant.objects.filter(person=person).update(status=WarrantStatus.SERVED)
    person_recompute(person)

    after = page(client, person)
    assert 'data-flag="wanted"' not in after
    assert "Served" in after or "served" in after


def test_a_charge_changed_after_a_view_is_shown_changed(signed_in: SignIn, agency: Agency) -> None:
    person = PersonFactory.create()
    case = CaseFactory.create(person=person)
    ChargeFactory.create(case=case, statute="53a-125b")
    client = signed_in(cj_user("officer", agency, claims=EVERY_CLAIM))
    assert "53a-125b" in page(client, person)

    Charge.objects.filter(case=case).update(statute="53a-124")

    after = page(client, person)
    assert "53a-124" in after
    assert "53a-125b" not in after


def test_a_merge_after_a_view_shows_the_merged_records(signed_in: SignIn, agency: Agency) -> None:
    survivor, merged = PersonFactory.create(), PersonFactory.create()
    CaseFactory.create(person=merged, docket_number="HHD-CR24-0099999-S")
    client = signed_in(cj_user("officer", agency, claims=EVERY_CLAIM))
    assert "HHD-CR24-0099999-S" not in page(client, survivor)

    staff = cj_user("security", agency, roles=[Role.CJIS_SECURITY])
    person_merge(actor=staff, survivor=survivor, merged=merged, reason="Same fingerprints")

    assert "HHD-CR24-0099999-S" in page(client, survivor)


def test_readers_with_other_claims_never_share_a_rendering(
    signed_in: SignIn, agency: Agency
) -> None:
    subject = subject_with_every_kind_of_record()
    everything = signed_in(cj_user("everything", agency, claims=EVERY_CLAIM))
    assert "JUV-53a-1" in page(everything, subject.person)

    historian = cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY])
    text = page(sign_in(Client(), historian), subject.person)
    assert "JUV-53a-1" not in text


@postgres_only
def test_the_fingerprint_follows_every_kind_of_write() -> None:
    person = PersonFactory.create()
    case = CaseFactory.create(person=person)
    seen = {record_cache.fingerprint(person.pk)}

    def changed() -> bool:
        value = record_cache.fingerprint(person.pk)
        fresh = value not in seen
        seen.add(value)
        return fresh

    WarrantFactory.create(person=person)
    assert changed(), "insert"
    Warrant.objects.filter(person=person).update(court="GA-14")
    assert changed(), "update in the same transaction"
    ChargeFactory.create(case=case)
    assert changed(), "charge added to a case"
    Warrant.objects.filter(person=person).delete()
    assert changed(), "delete"
    Person.objects.filter(pk=person.pk).update(caution="Armed")
    assert changed(), "the person row"
    Case.objects.filter(pk=case.pk).update(person=PersonFactory.create())
    assert changed(), "a record moved to another person"
    assert not changed(), "nothing written"


@postgres_only
def test_the_api_serves_a_repeated_read_from_the_cache(
    client: Client, agency: Agency, django_assert_max_num_queries: Any
) -> None:
    person = heavy_person()
    _, key = make_api_client(agency, [ApiScope.RECORDS_READ])
    url = reverse("api-person", kwargs={"public_id": person.public_id})
    headers = {"Authorization": f"Bearer {key}"}
    first = client.get(url, headers=headers).json()
    with django_assert_max_num_queries(12):
        again = client.get(url, headers=headers).json()
    assert again == first
    assert len(audited_records()) == 2


def test_no_key_when_the_cache_is_turned_off() -> None:
    person = PersonFactory.create()
    everything = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
    with override_settings(OBTS_RECORD_CACHE_SECONDS=0):
        assert record_cache.key("page", person.pk, everything, date(2026, 11, 23)) is None


def test_keys_differ_by_reader_day_and_kind() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("no fingerprint, hence no key, on SQLite")
    person = PersonFactory.create()
    everything = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
    less = Visibility(criminal_history=True, juvenile=False, sealed=True, registry=True)
    day = date(2026, 11, 23)
    keys = {
        record_cache.key("page", person.pk, everything, day),
        record_cache.key("page", person.pk, less, day),
        record_cache.key("page", person.pk, everything, date(2026, 11, 24)),
        record_cache.key("api", person.pk, everything, day),
    }
    assert len(keys) == 4


def test_the_key_covers_the_tags_that_write_the_page_rows() -> None:
    names = {path.name for path in record_cache.markup_files()}
    assert {"record_body.html", "timeline.html"} <= names
    assert Path(records.__file__).resolve() in record_cache.markup_files()
