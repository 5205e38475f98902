"""The inbox in a real browser: a court clerk waits on an empty inbox; a police records
system submits an arrest packet with a booking photograph and the arrest report; the item
and the unread count appear without a reload; the clerk opens it, reads it as a document
with the photograph and the PDF shown in the page, and acknowledges it; the sending
agency's officer sees that. No Content-Security-Policy violation on the way, the
attachments' own documents included.

Exchanges and attachments are submitted to the live server over HTTP, not through the
ORM: the polling page and the test would otherwise share the live server's database
connection at the same time."""

import json
import re
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from ciss.models import Delivery, DeliveryStatus
from portal.models import AuditEvent
from portal.roles import Role
from tests.ciss.exchange_factories import Court, court_setup, notice
from tests.e2e.test_obts_pages import sign_in
from tests.obts.factories_records import cj_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The page polls every few seconds; allow two rounds.
POLL_TIMEOUT_MS = 15_000


def _png() -> bytes:
    """A real 2 by 2 red PNG, so the browser has something to draw."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    text = b"BT /F1 18 Tf 72 720 Td (Arrest report JD-CR-1) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return body


@pytest.fixture(autouse=True)
def media(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Console messages about the Content-Security-Policy, from every page of the browser
    context (an attachment opened in a new tab among them)."""
    found: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.context.on("console", listen)
    return found


def submit_from_rms(page: Page, court: Court, payload: dict[str, Any]) -> str:
    """POST the exchange to the live server as the police records system; its id."""
    answer = page.request.post(
        "/api/v1/exchanges/",
        data=json.dumps(payload),
        headers={
            "Authorization": f"Bearer {court.key}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json",
        },
    )
    assert answer.status == 202, answer.text()
    exchange_id: str = answer.json()["id"]
    return exchange_id


def attach_from_rms(
    page: Page, court: Court, exchange_id: str, name: str, content: bytes, description: str
) -> None:
    answer = page.request.post(
        f"/api/v1/exchanges/{exchange_id}/attachments/",
        multipart={
            "file": {"name": name, "mimeType": "application/octet-stream", "buffer": content},
            "description": description,
        },
        headers={"Authorization": f"Bearer {court.key}"},
    )
    assert answer.status == 201, answer.text()


def test_clerk_sees_a_new_arrest_packet_arrive_reads_it_and_acknowledges_it(
    page: Page,
    live_server: LiveServer,
    court: Court,
    csp_violations: list[str],
    screenshot_dir: Path,
) -> None:
    sign_in(page, court.clerk, live_server)
    inbox_link = page.get_by_role("navigation", name="Primary navigation").get_by_role(
        "link", name="Inbox", exact=True
    )
    inbox_link.click()
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(page.get_by_text("Your inbox is empty.")).to_be_visible()
    expect(page.get_by_label("Search")).to_be_visible()
    expect(page.get_by_label("Court date")).to_be_visible()
    page.evaluate("window.inboxTestMarker = 'still the same page'")

    exchange_id = submit_from_rms(
        page,
        court,
        notice(
            type="arrest_packet",
            vehicle={"plate": "ABC1234", "state": "CT", "make": "Honda", "model": "Civic"},
            officer={"name": "Sgt. Dana Reyes", "badge": "4417"},
        ),
    )
    attach_from_rms(page, court, exchange_id, "booking.png", _png(), "Booking photograph")
    attach_from_rms(page, court, exchange_id, "arrest-report.pdf", _pdf(), "JD-CR-1")

    # No reload: the row and the header's count arrive by polling.
    item = page.get_by_role("link", name="Neumann, Michaela")
    expect(item).to_be_visible(timeout=POLL_TIMEOUT_MS)
    expect(
        page.get_by_role("navigation", name="Primary navigation").get_by_role(
            "link", name="Inbox 1 unread"
        )
    ).to_be_visible()
    assert page.evaluate("window.inboxTestMarker") == "still the same page"
    expect(page.get_by_role("row").filter(has=item)).to_contain_text("Unread")
    page.screenshot(path=str(screenshot_dir / "inbox-list.png"), full_page=True)

    files: list[Response] = []
    page.on(
        "response",
        lambda response: files.append(response) if "/ciss/attachments/" in response.url else None,
    )
    item.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Arrest packet: Michaela Neumann")
    expect(page.get_by_role("region", name="Charges")).to_contain_text("Larceny 6th degree")
    expect(page.get_by_role("region", name="Vehicle")).to_contain_text("CT ABC1234")
    expect(page.get_by_role("region", name="Officer")).to_contain_text("Sgt. Dana Reyes")
    expect(page.get_by_role("region", name="Court")).to_contain_text(
        "GA14 — Geographical Area 14, Hartford"
    )
    photo = page.get_by_role("img", name="Booking photograph")
    photo.scroll_into_view_if_needed()
    expect(photo).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('img[alt=\"Booking photograph\"]');"
        " return i && i.complete && i.naturalWidth === 2; }"
    )
    report = page.locator("iframe[title='arrest-report.pdf']")
    report.scroll_into_view_if_needed()
    expect(report).to_be_visible()
    page.wait_for_load_state("networkidle")
    served = {response.headers.get("content-type") for response in files if response.ok}
    assert {"image/png", "application/pdf"} <= served
    # The image opened on its own, in a new tab, under the file's own policy.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open booking.png in a new tab").click()
    tab = opened.value
    tab.wait_for_load_state("networkidle")
    expect(tab.locator("img")).to_have_js_property("naturalWidth", 2)
    tab.close()
    # Opened: the header no longer counts it.
    expect(
        page.get_by_role("navigation", name="Primary navigation").get_by_role(
            "link", name="Inbox", exact=True
        )
    ).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "inbox-detail.png"), full_page=True)

    acknowledge = page.get_by_role("button", name="Acknowledge")
    # Scrolled to first: clicked straight after the full-page screenshot, with the PDF's
    # frame in view, the click now and then reached no button.
    acknowledge.scroll_into_view_if_needed()
    acknowledge.click()
    expect(page.get_by_text("Acknowledged. Hartford Police Department can now see")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    page.wait_for_load_state("networkidle")

    delivery = Delivery.objects.get(recipient=court.clerk)
    assert delivery.status == DeliveryStatus.ACKNOWLEDGED
    assert AuditEvent.objects.filter(action="ciss.exchange.viewed", actor=court.clerk).exists()
    viewed = AuditEvent.objects.filter(action="ciss.exchange.attachment_viewed")
    assert {event.details["name"] for event in viewed} == {"booking.png", "arrest-report.pdf"}
    assert csp_violations == []


def test_sending_agency_sees_who_read_and_acknowledged(
    page: Page, live_server: LiveServer, court: Court, csp_violations: list[str]
) -> None:
    officer = cj_user("hpd-officer", court.police, roles=[Role.OFFICER])
    sign_in(page, officer, live_server)
    exchange_id = submit_from_rms(page, court, notice())
    Delivery.objects.filter(recipient=court.clerk).update(status=DeliveryStatus.READ)
    Delivery.objects.filter(recipient=court.prosecutor).update(status=DeliveryStatus.ACKNOWLEDGED)

    page.get_by_role("link", name="Sent exchanges").click()
    expect(page.get_by_role("heading", name="Sent exchanges", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Neumann, Michaela"))
    expect(row).to_contain_text("1 acknowledged")
    expect(row).to_contain_text("1 read")
    expect(row).to_contain_text("1 delivered, not read")

    row.get_by_role("link", name="Neumann, Michaela").click()
    expect(page).to_have_url(re.compile(rf"/ciss/sent/{exchange_id}/$"))
    recipients = page.get_by_role("region", name="Recipients")
    expect(recipients.get_by_role("row").filter(has_text="State's Attorney")).to_contain_text(
        "Acknowledged"
    )
    expect(recipients.get_by_role("row")).to_have_count(4)  # the header and three recipients
    assert csp_violations == []
