"""Attachments viewed in the browser (``/ciss/attachments/<id>/``): recipients and the
sending agency may open them, nobody else; the file comes with its stored type, inline,
unsniffable and frameable only by the portal; every viewing is audited; the exchange page
shows each kind with the element that plays it."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss.exchanges.attachments import attachment_add
from ciss.models import Delivery, DeliveryStatus, Exchange, ExchangeAttachment
from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.ciss.exchange_factories import Court, court_setup
from tests.ciss.test_inbox import delivery_of, detail_url, full_notice
from tests.factories import UserFactory, add_totp_device

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
MP3 = b"ID3\x03\x00\x00\x00" + b"\0" * 40
MP4 = b"\0\0\0\x18ftypisom" + b"\0" * 40
TIFF = b"II*\x00" + b"\0" * 40


@pytest.fixture(autouse=True)
def media(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def exchange(court: Court) -> Exchange:
    return full_notice(court, Client())


def add(exchange: Exchange, name: str, content: bytes, description: str = "") -> ExchangeAttachment:
    assert exchange.api_client is not None
    return attachment_add(
        exchange=exchange,
        upload=SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        description=description,
        api_client=exchange.api_client,
    )


def file_url(attachment: ExchangeAttachment) -> str:
    return reverse("ciss:attachment_file", args=[attachment.public_id])


@pytest.fixture
def report(exchange: Exchange) -> ExchangeAttachment:
    return add(exchange, "arrest report.pdf", PDF, description="JD-CR-1")


def user_of(agency: Agency, username: str, role: Role) -> User:
    user = UserFactory.create(username=username, agency=agency, roles=[role])
    add_totp_device(user)
    return user


def served(response: "Response") -> bytes:
    assert response.status_code == 200, response.status_code
    return response.getvalue()


# ---------------------------------------------------------------------------------------
# Who may open a file


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, report: ExchangeAttachment) -> None:
    response = client.get(file_url(report))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_recipient_opens_the_file(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    assert served(signed_in(court.clerk).get(file_url(report))) == PDF


def test_recipient_who_acknowledged_still_opens_the_file(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    Delivery.objects.filter(recipient=court.clerk).update(status=DeliveryStatus.ACKNOWLEDGED)
    assert served(signed_in(court.clerk).get(file_url(report))) == PDF


def test_officer_of_the_sending_agency_opens_the_file(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    officer = user_of(court.police, "sender-officer", Role.OFFICER)
    assert served(signed_in(officer).get(file_url(report))) == PDF


def test_agency_manager_of_the_sending_agency_opens_the_file(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    manager = user_of(court.police, "sender-manager", Role.AGENCY_MANAGER)
    assert served(signed_in(manager).get(file_url(report))) == PDF


def test_clerk_who_did_not_receive_the_exchange_gets_404(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    assert signed_in(court.clerk_without_claim).get(file_url(report)).status_code == 404
    assert not AuditEvent.objects.filter(action="ciss.exchange.attachment_viewed").exists()


def test_officer_of_another_agency_gets_404(
    signed_in: Callable[[User], Client], other_agency: Agency, report: ExchangeAttachment
) -> None:
    stranger = user_of(other_agency, "stranger", Role.OFFICER)
    assert signed_in(stranger).get(file_url(report)).status_code == 404


def test_user_without_a_role_for_attachments_is_refused(
    signed_in: Callable[[User], Client], outsider: User, report: ExchangeAttachment
) -> None:
    assert signed_in(outsider).get(file_url(report)).status_code == 403


def test_recipient_whose_delivery_failed_gets_404(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    Delivery.objects.filter(recipient=court.clerk).update(status=DeliveryStatus.FAILED)
    assert signed_in(court.clerk).get(file_url(report)).status_code == 404


def test_file_refuses_post(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    assert signed_in(court.clerk).post(file_url(report)).status_code == 405


def test_missing_file_is_a_404_not_a_500(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    report.file.delete(save=False)
    response = signed_in(court.clerk).get(file_url(report))
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------
# How the file is served


def test_file_is_served_inline_with_its_stored_type_and_name(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    response = signed_in(court.clerk).get(file_url(report))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="arrest report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(PDF))
    assert "no-store" in response["Cache-Control"]


def test_file_may_be_framed_by_the_portal_only(
    signed_in: Callable[[User], Client], court: Court, report: ExchangeAttachment
) -> None:
    response = signed_in(court.clerk).get(file_url(report))

    assert response["X-Frame-Options"] == "SAMEORIGIN"
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy


def test_every_viewing_is_audited(
    signed_in: Callable[[User], Client],
    court: Court,
    exchange: Exchange,
    report: ExchangeAttachment,
) -> None:
    client = signed_in(court.clerk)
    client.get(file_url(report))
    client.get(file_url(report))

    events = AuditEvent.objects.filter(action="ciss.exchange.attachment_viewed")
    assert events.count() == 2
    event = events.first()
    assert event is not None
    assert event.actor == court.clerk
    assert event.object_id == str(exchange.public_id)
    assert event.details["attachment"] == str(report.public_id)
    assert event.details["content_type"] == "application/pdf"


# ---------------------------------------------------------------------------------------
# Byte ranges: a video player seeks without downloading the whole recording


@pytest.fixture
def video(exchange: Exchange) -> ExchangeAttachment:
    return add(exchange, "bodycam.mp4", MP4, description="Body camera")


def test_a_range_request_gets_that_part_of_the_file(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    response = signed_in(court.clerk).get(file_url(video), HTTP_RANGE="bytes=8-15")

    assert response.status_code == 206
    assert response.getvalue() == MP4[8:16]
    assert response["Content-Range"] == f"bytes 8-15/{len(MP4)}"
    assert response["Content-Length"] == "8"
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_open_ended_range_runs_to_the_end_and_a_suffix_range_takes_the_last_bytes(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    client = signed_in(court.clerk)

    rest = client.get(file_url(video), HTTP_RANGE="bytes=40-")
    tail = client.get(file_url(video), HTTP_RANGE="bytes=-5")

    assert rest.getvalue() == MP4[40:]
    assert rest["Content-Range"] == f"bytes 40-{len(MP4) - 1}/{len(MP4)}"
    assert tail.getvalue() == MP4[-5:]


def test_the_whole_file_says_ranges_are_accepted(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    response = signed_in(court.clerk).get(file_url(video))

    assert served(response) == MP4
    assert response["Accept-Ranges"] == "bytes"


def test_a_range_past_the_end_is_416_with_the_size(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    response = signed_in(court.clerk).get(file_url(video), HTTP_RANGE=f"bytes={len(MP4)}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(MP4)}"


def test_a_range_header_this_server_does_not_read_gets_the_whole_file(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    client = signed_in(court.clerk)

    for header in ("bytes=0-3,10-12", "items=0-3", "bytes=9-2"):
        assert served(client.get(file_url(video), HTTP_RANGE=header)) == MP4


def test_one_viewing_is_one_audit_row_however_many_pieces_the_player_asks_for(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    client = signed_in(court.clerk)
    client.get(file_url(video), HTTP_RANGE="bytes=0-")
    client.get(file_url(video), HTTP_RANGE="bytes=20-29")
    client.get(file_url(video), HTTP_RANGE="bytes=30-")

    assert AuditEvent.objects.filter(action="ciss.exchange.attachment_viewed").count() == 1


def test_a_range_of_someone_elses_attachment_is_still_404(
    signed_in: Callable[[User], Client], court: Court, video: ExchangeAttachment
) -> None:
    response = signed_in(court.clerk_without_claim).get(file_url(video), HTTP_RANGE="bytes=0-3")

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------
# On the exchange's page


def test_each_kind_is_shown_with_the_element_that_plays_it(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    pdf = add(exchange, "report.pdf", PDF)
    photo = add(exchange, "booking.png", PNG, description="Booking photograph")
    statement = add(exchange, "statement.mp3", MP3)
    video = add(exchange, "dashcam.mp4", MP4)

    response = signed_in(court.clerk).get(detail_url(delivery_of(court.clerk, exchange)))
    text = response.content.decode()

    assert f'src="{file_url(pdf)}" title="report.pdf"' in text
    assert "<iframe" in text
    assert f'src="{file_url(photo)}" alt="Booking photograph"' in text
    assert f'<audio controls preload="none" src="{file_url(statement)}"' in text
    assert (
        f'<video class="maxw-full maxh-tablet" controls preload="none" src="{file_url(video)}"'
        in text
    )
    assert (
        f'href="{file_url(video)}" target="_blank" rel="noopener">Open dashcam.mp4 in a new tab'
        in text
    )
    assert "<object" not in text
    # Shown, not fetched: only the files themselves are audited as viewed.
    assert not AuditEvent.objects.filter(action="ciss.exchange.attachment_viewed").exists()


def test_tiff_is_offered_as_a_link_not_an_image(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    scan = add(exchange, "scan.tiff", TIFF)
    text = signed_in(court.clerk).get(detail_url(delivery_of(court.clerk, exchange))).content
    assert f'src="{file_url(scan)}"'.encode() not in text
    assert f'href="{file_url(scan)}"'.encode() in text
