"""The hash-chained, append-only audit log, and the auditors' pages over it."""

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import audit
from portal.models import Agency, AuditEvent, User
from portal.models.audit import GENESIS_HASH, AuditChainHead, AuditLogIsAppendOnly
from portal.roles import Role
from portal.views.audit import CSV_COLUMNS
from tests.factories import UserFactory, add_totp_device

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

PORTAL_TZ = ZoneInfo("America/New_York")

pytestmark = pytest.mark.django_db


def _write(count: int) -> list[AuditEvent]:
    return [
        audit.record("password.changed", username=f"user{n}", details={"n": n})
        for n in range(1, count + 1)
    ]


def _tamper(sql: str, params: list[str | int]) -> None:
    """Change the log behind the ORM's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check; the trigger comes back
            # when the test's transaction rolls back.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER portal_audit_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(sql, params)


def _set_details(seq: int, json_text: str) -> None:
    if connection.vendor == "postgresql":
        sql = "UPDATE portal_auditevent SET details = %s::jsonb WHERE seq = %s"
    else:
        sql = "UPDATE portal_auditevent SET details = %s WHERE seq = %s"
    _tamper(sql, [json_text, seq])


def _delete(seq: int) -> None:
    _tamper("DELETE FROM portal_auditevent WHERE seq = %s", [seq])


class _Boom(Exception):
    pass


def _record_in_failed_transaction() -> None:
    with transaction.atomic():
        audit.record("account.disabled", username="pat")
        raise _Boom


# ---------------------------------------------------------------------------------------
# The chain


def test_record_numbers_events_from_one() -> None:
    events = _write(4)
    assert [event.seq for event in events] == [1, 2, 3, 4]


def test_record_links_each_event_to_the_previous_one() -> None:
    events = _write(3)
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash


def test_record_moves_the_chain_head_to_the_last_event() -> None:
    events = _write(3)
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, events[-1].hash)


def test_record_many_appends_the_same_chain_as_one_record_each() -> None:
    first = audit.record("password.changed", username="pat")
    officer = UserFactory.create()

    events = audit.record_many(
        [
            {"action": "account.disabled", "username": "lee", "details": {"n": 1}},
            {"action": "password.changed", "actor": officer, "details": {"token": "x"}},
            {"action": "account.enabled", "username": "lee"},
        ]
    )

    stored = list(AuditEvent.objects.order_by("seq"))
    assert [event.seq for event in stored] == [1, 2, 3, 4]
    assert [event.pk for event in events] == [event.pk for event in stored[1:]]
    assert [event.prev_hash for event in stored] == [GENESIS_HASH, *[e.hash for e in stored[:3]]]
    assert all(event.compute_hash() == event.hash for event in stored)
    assert stored[2].agency_id == officer.agency_id
    assert stored[2].details == {"token": "[redacted]"}
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (4, stored[-1].hash)
    assert audit.verify_chain().ok
    assert first.hash == stored[0].hash


def test_record_many_on_postgresql_takes_two_statements_whatever_the_count() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the two-statement append is PostgreSQL's")
    audit.record("password.changed", username="pat")  # the chain's head exists
    entries: list[audit.Entry] = [
        {"action": "account.disabled", "username": f"user{n}"} for n in range(5)
    ]

    with CaptureQueriesContext(connection) as queries:
        events = audit.record_many(entries)

    assert len(queries.captured_queries) == 2
    assert [event.seq for event in events] == [2, 3, 4, 5, 6]
    assert audit.verify_chain().ok


def test_record_names_the_actors_agency_without_loading_it() -> None:
    officer = UserFactory.create()
    actor = User.objects.get(pk=officer.pk)  # as a request loads it: the agency not read

    with CaptureQueriesContext(connection) as queries:
        audit.record("password.changed", actor=actor)

    assert not [q["sql"] for q in queries.captured_queries if 'FROM "portal_agency"' in q["sql"]]
    assert AuditEvent.objects.get().agency_id == officer.agency_id is not None


def test_record_many_of_one_event_or_none() -> None:
    assert audit.record_many([]) == []
    [event] = audit.record_many([{"action": "account.disabled", "username": "lee"}])
    assert AuditEvent.objects.get().seq == event.seq == 1
    assert audit.verify_chain().ok


def test_stored_hash_matches_content_read_back() -> None:
    audit.record("password.changed", username="pat", details={"when": datetime.now(PORTAL_TZ)})
    event = AuditEvent.objects.get()
    assert event.compute_hash() == event.hash


def test_verify_chain_passes_on_an_intact_log() -> None:
    _write(5)
    result = audit.verify_chain()
    assert result.ok
    assert result.checked == 5


def test_verify_chain_passes_on_an_empty_log() -> None:
    result = audit.verify_chain()
    assert result.ok
    assert result.checked == 0


def test_verify_chain_finds_a_changed_row() -> None:
    _write(5)
    _set_details(3, '{"n": 99}')
    result = audit.verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == 3
    assert "changed" in result.first_break.reason
    assert result.checked == 2


def test_verify_chain_reports_the_first_of_several_changed_rows() -> None:
    _write(5)
    _set_details(4, '{"n": 99}')
    _set_details(2, '{"n": 99}')
    result = audit.verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == 2


def test_verify_chain_finds_a_deleted_middle_row() -> None:
    _write(5)
    _delete(3)
    result = audit.verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == 3
    assert "missing" in result.first_break.reason


def test_verify_chain_finds_a_deleted_last_row() -> None:
    _write(5)
    _delete(5)
    result = audit.verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == 5
    assert "removed" in result.first_break.reason
    assert result.checked == 4


def test_verify_audit_command_reports_an_intact_log(capsys: pytest.CaptureFixture[str]) -> None:
    _write(3)
    call_command("verify_audit")
    assert "intact: 3 events" in capsys.readouterr().out


def test_verify_audit_command_fails_naming_the_broken_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _write(3)
    _set_details(2, "{}")
    with pytest.raises(SystemExit) as exited:
        call_command("verify_audit")
    assert exited.value.code == 1
    assert "event #2" in capsys.readouterr().err


def test_event_rolled_back_with_its_transaction_disappears() -> None:
    _write(2)
    with pytest.raises(_Boom):
        _record_in_failed_transaction()
    assert not AuditEvent.objects.filter(action="account.disabled").exists()
    assert AuditEvent.objects.count() == 2


def test_chain_stays_valid_after_a_rolled_back_event() -> None:
    _write(2)
    with pytest.raises(_Boom):
        _record_in_failed_transaction()
    event = audit.record("account.enabled", username="pat")
    assert event.seq == 3
    assert audit.verify_chain().ok


# ---------------------------------------------------------------------------------------
# Append-only


def test_orm_refuses_to_save_an_existing_event() -> None:
    _write(1)
    event = AuditEvent.objects.get()
    event.details = {"n": 99}
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    assert AuditEvent.objects.get().details == {"n": 1}


def test_orm_refuses_to_create_an_event_outside_record() -> None:
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.create(seq=1, action="password.changed", prev_hash="", hash="")
    assert not AuditEvent.objects.exists()


def test_orm_refuses_to_bulk_create_events_outside_record() -> None:
    event = AuditEvent(seq=1, action="password.changed", prev_hash="", hash="")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_create([event])
    assert not AuditEvent.objects.exists()


def test_orm_refuses_to_delete_an_event() -> None:
    _write(1)
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.get().delete()
    assert AuditEvent.objects.count() == 1


def test_orm_refuses_queryset_update() -> None:
    _write(2)
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(seq=1).update(action="nothing")
    assert not AuditEvent.objects.filter(action="nothing").exists()


def test_orm_refuses_queryset_delete() -> None:
    _write(2)
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)
def test_database_refuses_raw_update() -> None:
    _write(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE portal_auditevent SET action = 'nothing'")
    assert AuditEvent.objects.get().action == "password.changed"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)
def test_database_refuses_raw_delete() -> None:
    _write(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM portal_auditevent")
    assert AuditEvent.objects.count() == 1


# ---------------------------------------------------------------------------------------
# Secrets never reach the log


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "token",
        "csrfmiddlewaretoken",
        "api_key",
        "API-Key",
        "key",
        "code",
        "backup_code",
        "verification_code",
        "secret",
        "client_secret",
        "Authorization",
        "session",
    ],
)
def test_scrub_redacts_secret_looking_keys(key: str) -> None:
    assert audit.scrub({key: "hunter2", "username": "pat"}) == {
        key: audit.REDACTED,
        "username": "pat",
    }


def test_scrub_redacts_at_any_depth() -> None:
    scrubbed = audit.scrub(
        {"request": {"form": [{"fields": {"password": "hunter2", "name": "pat"}}]}}
    )
    assert scrubbed == {
        "request": {"form": [{"fields": {"password": "[redacted]", "name": "pat"}}]}
    }


def test_scrub_keeps_ordinary_values() -> None:
    details = {"reason": "ticket 42", "count": 3, "ok": True, "none": None, "roles": ["auditor"]}
    assert audit.scrub(details) == details


def test_record_stores_scrubbed_details() -> None:
    audit.record(
        "password.changed", username="pat", details={"old": {"password": "hunter2"}, "n": 1}
    )
    assert AuditEvent.objects.get().details == {"old": {"password": "[redacted]"}, "n": 1}


# ---------------------------------------------------------------------------------------
# The auditors' pages


@pytest.fixture
def auditor_client(signed_in: Callable[[User], Client], auditor: User) -> Client:
    return signed_in(auditor)


def _page_usernames(response: "Response") -> list[str]:
    page = response.context["page"]
    return [event.actor_username for event in page.object_list]


def test_auditor_sees_audit_events(auditor_client: Client, officer: User, outsider: User) -> None:
    audit.record("password.changed", actor=officer)
    audit.record("password.changed", actor=outsider)
    response = auditor_client.get(reverse("portal:audit_log"))
    assert response.status_code == 200
    assert _page_usernames(response) == ["outsider", "officer"]
    assert b"Password changed" in response.content


def test_audit_log_filters_by_username(
    auditor_client: Client, officer: User, outsider: User
) -> None:
    audit.record("password.changed", actor=officer)
    audit.record("password.changed", actor=outsider)
    response = auditor_client.get(reverse("portal:audit_log"), {"user": "outsider"})
    assert _page_usernames(response) == ["outsider"]


def test_audit_log_filters_by_typed_username_of_failed_sign_in(auditor_client: Client) -> None:
    audit.record("signin.failed", username="nosuchuser")
    audit.record("signin.failed", username="someoneelse")
    response = auditor_client.get(reverse("portal:audit_log"), {"user": "nosuchuser"})
    assert _page_usernames(response) == ["nosuchuser"]


def test_audit_log_filters_by_agency_ori(
    auditor_client: Client, officer: User, outsider: User, agency: Agency
) -> None:
    audit.record("password.changed", actor=officer)
    audit.record("password.changed", actor=outsider)
    response = auditor_client.get(reverse("portal:audit_log"), {"agency": agency.ori.lower()})
    assert _page_usernames(response) == ["officer"]


def test_audit_log_filters_by_action(auditor_client: Client, officer: User) -> None:
    audit.record("password.changed", actor=officer)
    audit.record("mfa.reset", actor=officer)
    response = auditor_client.get(reverse("portal:audit_log"), {"action": "mfa.reset"})
    page = response.context["page"]
    assert [event.action for event in page.object_list] == ["mfa.reset"]


def _record_on(day: datetime, username: str) -> None:
    with time_machine.travel(day, tick=False):
        audit.record("password.changed", username=username)


def test_audit_log_filters_by_date_range(auditor_client: Client) -> None:
    _record_on(datetime(2026, 3, 1, 12, tzinfo=PORTAL_TZ), "march1")
    _record_on(datetime(2026, 3, 5, 12, tzinfo=PORTAL_TZ), "march5")
    _record_on(datetime(2026, 3, 10, 12, tzinfo=PORTAL_TZ), "march10")
    response = auditor_client.get(
        reverse("portal:audit_log"), {"start": "2026-03-04", "end": "2026-03-06"}
    )
    assert _page_usernames(response) == ["march5"]


def test_audit_log_date_range_includes_its_end_day(auditor_client: Client) -> None:
    _record_on(datetime(2026, 3, 5, 12, tzinfo=PORTAL_TZ), "march5")
    _record_on(datetime(2026, 3, 10, 12, tzinfo=PORTAL_TZ), "march10")
    response = auditor_client.get(
        reverse("portal:audit_log"), {"start": "2026-03-05", "end": "2026-03-05"}
    )
    assert _page_usernames(response) == ["march5"]


def test_audit_log_days_are_in_the_portal_time_zone(auditor_client: Client) -> None:
    # 23:30 in Hartford is already the next day in UTC.
    _record_on(datetime(2026, 3, 5, 23, 30, tzinfo=PORTAL_TZ), "late")
    response = auditor_client.get(
        reverse("portal:audit_log"), {"start": "2026-03-05", "end": "2026-03-05"}
    )
    assert _page_usernames(response) == ["late"]


def test_audit_log_shows_fifty_events_a_page(auditor_client: Client) -> None:
    _write(51)
    response = auditor_client.get(reverse("portal:audit_log"))
    page = response.context["page"]
    assert len(page.object_list) == 50
    assert page.object_list[0].seq == 51
    assert b"Page 1 of 2" in response.content


def test_audit_log_second_page_holds_the_oldest_event(auditor_client: Client) -> None:
    _write(51)
    response = auditor_client.get(reverse("portal:audit_log"), {"page": "2"})
    assert [event.seq for event in response.context["page"].object_list] == [1]
    assert b"Page 2 of 2" in response.content


def test_audit_log_page_links_keep_the_filters(auditor_client: Client) -> None:
    _write(51)
    response = auditor_client.get(reverse("portal:audit_log"), {"action": "password.changed"})
    assert b"action=password.changed&amp;page=2" in response.content


def test_audit_log_says_when_nothing_matches(auditor_client: Client, officer: User) -> None:
    audit.record("password.changed", actor=officer)
    response = auditor_client.get(reverse("portal:audit_log"), {"user": "nobody"})
    assert response.status_code == 200
    assert b"No audit events match these filters." in response.content


def test_audit_log_reverse_date_range_is_a_form_error(auditor_client: Client) -> None:
    response = auditor_client.get(
        reverse("portal:audit_log"), {"start": "2026-03-10", "end": "2026-03-01"}
    )
    assert response.status_code == 200
    assert b"The end date is before the start date." in response.content


def test_audit_log_malformed_date_is_a_form_error(auditor_client: Client) -> None:
    response = auditor_client.get(reverse("portal:audit_log"), {"start": "2026-13-45"})
    assert response.status_code == 200
    assert response.context["form"].errors["start"]


def test_audit_log_refuses_post(auditor_client: Client) -> None:
    response = auditor_client.post(reverse("portal:audit_log"))
    assert response.status_code == 405


def test_cjis_security_reaches_audit_log(
    signed_in: Callable[[User], Client], agency: Agency
) -> None:
    user = UserFactory.create(username="security", agency=agency, roles=[Role.CJIS_SECURITY])
    add_totp_device(user)
    response = signed_in(user).get(reverse("portal:audit_log"))
    assert response.status_code == 200


@pytest.mark.parametrize("url_name", ["portal:audit_log", "portal:audit_export"])
def test_officer_gets_403_on_audit_pages(
    signed_in: Callable[[User], Client], officer: User, url_name: str
) -> None:
    response = signed_in(officer).get(reverse(url_name))
    assert response.status_code == 403


@pytest.mark.parametrize("url_name", ["portal:audit_log", "portal:audit_export"])
def test_outsider_gets_403_on_audit_pages(
    signed_in: Callable[[User], Client], outsider: User, url_name: str
) -> None:
    response = signed_in(outsider).get(reverse(url_name))
    assert response.status_code == 403


@pytest.mark.parametrize("url_name", ["portal:audit_log", "portal:audit_export"])
def test_anonymous_visitor_is_sent_to_sign_in_from_audit_pages(
    client: Client, url_name: str
) -> None:
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


# ---------------------------------------------------------------------------------------
# CSV export


def _csv(response: "Response") -> list[list[str]]:
    body = response.getvalue().decode()
    return list(csv.reader(io.StringIO(body)))


def test_export_is_a_csv_download(auditor_client: Client) -> None:
    response = auditor_client.get(reverse("portal:audit_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')


def test_export_starts_with_a_header_row(auditor_client: Client) -> None:
    rows = _csv(auditor_client.get(reverse("portal:audit_export")))
    assert rows[0] == CSV_COLUMNS


def test_export_has_one_row_per_matching_event(
    auditor_client: Client, officer: User, outsider: User, agency: Agency
) -> None:
    audit.record("password.changed", actor=officer)
    audit.record("mfa.reset", actor=officer)
    audit.record("password.changed", actor=outsider)
    rows = _csv(auditor_client.get(reverse("portal:audit_export"), {"user": "officer"}))
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(row["username"], row["action"]) for row in body] == [
        ("officer", "mfa.reset"),
        ("officer", "password.changed"),
    ]
    assert {row["agency_ori"] for row in body} == {agency.ori}


def test_export_applies_the_date_filter(auditor_client: Client) -> None:
    _record_on(datetime(2026, 3, 1, 12, tzinfo=PORTAL_TZ), "march1")
    _record_on(datetime(2026, 3, 5, 12, tzinfo=PORTAL_TZ), "march5")
    rows = _csv(
        auditor_client.get(
            reverse("portal:audit_export"),
            {"start": "2026-03-05", "end": "2026-03-05", "action": "password.changed"},
        )
    )
    assert [row[2] for row in rows[1:]] == ["march5"]


def test_export_is_itself_audited(auditor_client: Client, auditor: User) -> None:
    audit.record("password.changed", username="pat")
    auditor_client.get(reverse("portal:audit_export"), {"action": "password.changed"})
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.actor == auditor
    assert event.details == {"filters": {"action": "password.changed"}, "rows": 1}


def test_export_neutralises_spreadsheet_formulas(auditor_client: Client) -> None:
    # A failed sign-in keeps the name as typed, so anyone can put a formula in the log.
    audit.record("signin.failed", username='=HYPERLINK("http://evil.example","x")')
    rows = _csv(auditor_client.get(reverse("portal:audit_export"), {"action": "signin.failed"}))
    assert rows[1][CSV_COLUMNS.index("username")] == '\'=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize("prefix", ["+", "-", "@"])
def test_export_neutralises_other_formula_prefixes(auditor_client: Client, prefix: str) -> None:
    audit.record("signin.failed", username=f"{prefix}1+2")
    rows = _csv(auditor_client.get(reverse("portal:audit_export"), {"action": "signin.failed"}))
    assert rows[1][CSV_COLUMNS.index("username")] == f"'{prefix}1+2"


def test_export_with_reverse_date_range_is_refused_with_the_form(auditor_client: Client) -> None:
    response = auditor_client.get(
        reverse("portal:audit_export"), {"start": "2026-03-10", "end": "2026-03-01"}
    )
    assert response.status_code == 400
    assert b"The end date is before the start date." in response.content
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_each_event_reads_back_as_written_and_the_chain_verifies(
    django_assert_max_num_queries: Any, officer: User
) -> None:
    # The first event creates the chain's head; later ones take two statements on
    # PostgreSQL (lock the head; insert and move the head together), three elsewhere.
    audit.record("password.changed", username="first")
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 3):
        written = audit.record(
            "account.signed_in",
            actor=officer,
            object_type="obts.person",
            object_id="p-1",
            details={"purpose": "traffic stop", "persons": ["a", "b"], "password": "x"},
        )
    stored = AuditEvent.objects.get(pk=written.pk)
    assert (stored.seq, stored.hash, stored.prev_hash) == (
        written.seq,
        written.hash,
        written.prev_hash,
    )
    assert stored.details == {
        "purpose": "traffic stop",
        "persons": ["a", "b"],
        "password": audit.REDACTED,
    }
    assert stored.actor == officer
    assert stored.agency == officer.agency
    assert stored.occurred_at == written.occurred_at
    assert AuditChainHead.objects.get().seq == written.seq
    assert audit.verify_chain().ok
