"""RMS vendor certification: the level 1 and level 2 checks over a client's submissions,
``certify_rms``, and the pages."""

import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss.exchanges.certification import certification_run
from ciss.models import CertificationReport, Exchange
from portal.models import ApiClient, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Role
from tests.ciss.exchange_factories import Court, court_setup, notice, submit
from tests.conftest import sign_in
from tests.factories import UserFactory, add_totp_device, make_api_client

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: SettingsWrapper, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def vendor(court: Court) -> tuple[ApiClient, str]:
    scopes: list[str] = [ApiScope.EXCHANGES_SUBMIT, ApiScope.SEARCH_READ]
    return make_api_client(court.police, scopes, name="Vendor RMS test")


def prompt_notice(number: int, **changes: Any) -> dict[str, Any]:
    occurred = timezone.now() - timedelta(minutes=10)
    subject = {**notice()["subject"], "first_name": f"Test{number}", "dob": "1980-01-01"}
    payload = notice(
        incident_number=f"2026-{number:06d}",
        occurred_at=occurred.isoformat(),
        arraignment_date=(occurred + timedelta(days=1)).date().isoformat(),
        subject=subject,
    )
    payload.update(changes)
    return payload


def send_notices(client: Client, key: str, count: int = 10) -> None:
    for number in range(count):
        assert submit(client, key, prompt_notice(number)).status_code == 202


def send_packets(client: Client, key: str, count: int = 5, *, attach: bool = True) -> None:
    for number in range(count):
        answer = submit(client, key, prompt_notice(number, type="arrest_packet"))
        if attach:
            client.post(
                reverse("api-exchange-attachments", args=[answer.json()["id"]]),
                {"file": SimpleUploadedFile("JD-CR-1.pdf", PDF)},
                headers={"Authorization": f"Bearer {key}"},
            )


def search_both(client: Client, key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    client.get(reverse("api-search-persons"), {"name": "Test1 Neumann"}, headers=auth)
    client.get(reverse("api-search-vehicles"), {"plate": "ABC1234"}, headers=auth)


def failed(report: CertificationReport) -> list[str]:
    return [check["name"] for check in report.checks if not check["passed"]]


def test_ten_good_notices_reach_level_1(client: Client, vendor: tuple[ApiClient, str]) -> None:
    send_notices(client, vendor[1])

    report = certification_run(client=vendor[0])

    assert report.level == 1
    assert failed(report) == [
        "Arrest packets sent",
        "Arrest forms attached",
        "Packet follows its notice",
        "Same subject as the notice",
        "Consumer searches",
    ]


def test_too_few_notices_reach_no_level(client: Client, vendor: tuple[ApiClient, str]) -> None:
    send_notices(client, vendor[1], count=9)

    report = certification_run(client=vendor[0])

    assert report.level == 0
    assert "Early arrest notices sent" in failed(report)


def test_notices_without_a_date_of_birth_fail_the_subject_check(
    client: Client, vendor: tuple[ApiClient, str]
) -> None:
    send_notices(client, vendor[1])
    for number in range(10, 12):
        payload = prompt_notice(number)
        payload["subject"] = {**payload["subject"], "dob": ""}
        del payload["subject"]["dob"]
        submit(client, vendor[1], payload)

    report = certification_run(client=vendor[0])

    check = next(c for c in report.checks if c["name"] == "Subject identified")
    assert check["measured"] == "10 of 12 (83%)"
    assert check["examples"] == ["2026-000010", "2026-000011"]
    assert report.level == 0


def test_late_notices_fail_the_promptness_check(
    client: Client, vendor: tuple[ApiClient, str]
) -> None:
    for number in range(10):
        occurred = timezone.now() - timedelta(hours=5)
        submit(client, vendor[1], prompt_notice(number, occurred_at=occurred.isoformat()))

    report = certification_run(client=vendor[0])

    assert "Sent promptly" in failed(report)


def test_an_incident_sent_twice_fails(client: Client, vendor: tuple[ApiClient, str]) -> None:
    send_notices(client, vendor[1])
    submit(client, vendor[1], prompt_notice(3), idempotency_key=str(uuid.uuid4()))

    report = certification_run(client=vendor[0])

    check = next(c for c in report.checks if c["name"] == "Each incident once")
    assert (check["passed"], check["examples"]) == (False, ["2026-000003"])


def test_unknown_court_fails(client: Client, vendor: tuple[ApiClient, str]) -> None:
    send_notices(client, vendor[1])
    submit(client, vendor[1], prompt_notice(20, court={"code": "GA99"}))

    assert "Court known" in failed(certification_run(client=vendor[0]))


def test_packets_with_forms_and_searches_reach_level_2(
    client: Client, vendor: tuple[ApiClient, str]
) -> None:
    send_notices(client, vendor[1])
    send_packets(client, vendor[1])
    search_both(client, vendor[1])

    report = certification_run(client=vendor[0])

    assert failed(report) == []
    assert report.level == 2


def test_packets_without_forms_stay_at_level_1(
    client: Client, vendor: tuple[ApiClient, str]
) -> None:
    send_notices(client, vendor[1])
    send_packets(client, vendor[1], attach=False)
    search_both(client, vendor[1])

    report = certification_run(client=vendor[0])

    assert failed(report) == ["Arrest forms attached"]
    assert report.level == 1


def test_only_the_clients_own_submissions_count(
    client: Client, court: Court, vendor: tuple[ApiClient, str]
) -> None:
    send_notices(client, court.key)

    assert certification_run(client=vendor[0]).level == 0


def test_run_is_kept_and_audited(client: Client, vendor: tuple[ApiClient, str]) -> None:
    report = certification_run(client=vendor[0])

    event = AuditEvent.objects.get(action="ciss.certification.run")
    assert event.object_id == str(report.public_id)
    assert event.details["level"] == 0


def test_command_prints_the_report(client: Client, vendor: tuple[ApiClient, str]) -> None:
    send_notices(client, vendor[1])
    out = StringIO()

    call_command("certify_rms", "CT0006400/Vendor RMS test", stdout=out)

    text = out.getvalue()
    assert "L1 PASS  Early arrest notices sent: 10" in text
    assert "L2 FAIL  Arrest packets sent: 0" in text
    assert text.strip().endswith("Level reached: 1")
    assert CertificationReport.objects.count() == 1


def test_command_fails_when_the_level_asked_is_not_reached(
    client: Client, vendor: tuple[ApiClient, str]
) -> None:
    with pytest.raises(CommandError, match="Level reached: none; level 2 was asked for"):
        call_command("certify_rms", str(vendor[0].public_id), "--level", "2", stdout=StringIO())


def test_command_names_an_unknown_client(db: None) -> None:
    with pytest.raises(CommandError, match="No API client 'Nobody'"):
        call_command("certify_rms", "Nobody", stdout=StringIO())


# Pages ---------------------------------------------------------------------------------


def staff(role: Role, court: Court) -> User:
    user = UserFactory.create(username=f"{role}-user", agency=court.police, roles=[role])
    add_totp_device(user)
    return user


def test_cjis_staff_run_the_checks_from_the_portal(
    client: Client, court: Court, vendor: tuple[ApiClient, str]
) -> None:
    sign_in(client, staff(Role.CJIS_SECURITY, court))

    answer = client.post(reverse("ciss:certification_run", args=[vendor[0].public_id]), follow=True)

    assert answer.status_code == 200
    assert "No level reached" in answer.content.decode()
    assert CertificationReport.objects.filter(api_client=vendor[0]).count() == 1


def test_list_shows_each_submitting_client(
    client: Client, court: Court, vendor: tuple[ApiClient, str]
) -> None:
    make_api_client(court.police, [ApiScope.SEARCH_READ], name="Search only")
    sign_in(client, staff(Role.CJIS_SECURITY, court))

    page = client.get(reverse("ciss:certification")).content.decode()

    assert "Vendor RMS test" in page
    assert "Search only" not in page


def test_agency_manager_sees_own_agency_but_cannot_run(
    client: Client, court: Court, vendor: tuple[ApiClient, str]
) -> None:
    sign_in(client, staff(Role.AGENCY_MANAGER, court))

    assert (
        client.get(reverse("ciss:certification_client", args=[vendor[0].public_id])).status_code
        == 200
    )
    assert (
        client.post(reverse("ciss:certification_run", args=[vendor[0].public_id])).status_code
        == 403
    )


def test_manager_of_another_agency_cannot_see_the_report(
    client: Client, court: Court, vendor: tuple[ApiClient, str]
) -> None:
    manager = UserFactory.create(
        username="other-manager", agency=court.court, roles=[Role.AGENCY_MANAGER]
    )
    add_totp_device(manager)
    sign_in(client, manager)

    url = reverse("ciss:certification_client", args=[vendor[0].public_id])
    assert client.get(url).status_code == 404
    assert "Vendor RMS test" not in client.get(reverse("ciss:certification")).content.decode()


def test_clerk_cannot_open_certification(client: Client, court: Court) -> None:
    sign_in(client, court.clerk)

    assert client.get(reverse("ciss:certification")).status_code == 403


def test_run_needs_post(client: Client, court: Court, vendor: tuple[ApiClient, str]) -> None:
    sign_in(client, staff(Role.CJIS_SECURITY, court))

    assert (
        client.get(reverse("ciss:certification_run", args=[vendor[0].public_id])).status_code == 405
    )


def test_exchanges_sent_count_under_the_client(
    client: Client, vendor: tuple[ApiClient, str]
) -> None:
    send_notices(client, vendor[1], count=1)

    assert Exchange.objects.get().api_client == vendor[0]
