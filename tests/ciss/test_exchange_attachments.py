"""``POST /api/v1/exchanges/{id}/attachments/``: accepted types found from the bytes, the
size limit, the SHA-256, and who may attach."""

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss.exchanges.attachments import sniff_content_type
from ciss.models import Exchange, ExchangeAttachment
from portal.models import AuditEvent
from portal.models.api_clients import ApiScope
from tests.ciss.exchange_factories import Court, court_setup, notice, submit
from tests.factories import AgencyFactory, make_api_client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def exchange(client: Client, court: Court) -> Exchange:
    answer = submit(client, court.key, notice(type="arrest_packet"))
    return Exchange.objects.get(public_id=answer.json()["id"])


def attach(
    client: Client, key: str, exchange: Exchange, name: str, content: bytes, **data: str
) -> "Response":
    return client.post(
        reverse("api-exchange-attachments", args=[exchange.public_id]),
        {
            "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
            **data,
        },
        headers={"Authorization": f"Bearer {key}"},
    )


def test_pdf_is_stored_with_its_digest(client: Client, court: Court, exchange: Exchange) -> None:
    answer = attach(client, court.key, exchange, "arrest-report.pdf", PDF, description="JD-CR-1")

    assert answer.status_code == 201
    body = answer.json()
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    stored = ExchangeAttachment.objects.get()
    assert stored.original_name == "arrest-report.pdf"
    assert stored.description == "JD-CR-1"
    assert stored.file.read() == PDF
    assert "arrest-report" not in str(stored.file.name)


def test_type_comes_from_the_bytes_not_the_name(
    client: Client, court: Court, exchange: Exchange
) -> None:
    answer = attach(client, court.key, exchange, "photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 40)

    assert answer.json()["content_type"] == "image/png"


def test_an_executable_named_pdf_is_refused(
    client: Client, court: Court, exchange: Exchange
) -> None:
    answer = attach(client, court.key, exchange, "report.pdf", b"MZ\x90\x00" + b"\0" * 60)

    assert answer.status_code == 415
    assert "Accepted: PDF" in answer.json()["detail"]
    assert not ExchangeAttachment.objects.exists()


def test_a_file_over_the_limit_is_too_large(
    client: Client, court: Court, exchange: Exchange, settings: SettingsWrapper
) -> None:
    settings.CISS_ATTACHMENT_MAX_BYTES = 100

    answer = attach(client, court.key, exchange, "big.pdf", PDF + b" " * 100)

    assert answer.status_code == 413
    assert "limited to" in answer.json()["detail"]


def test_an_empty_file_is_refused(client: Client, court: Court, exchange: Exchange) -> None:
    assert attach(client, court.key, exchange, "empty.pdf", b"").status_code == 400


def test_the_file_field_is_required(client: Client, court: Court, exchange: Exchange) -> None:
    answer = client.post(
        reverse("api-exchange-attachments", args=[exchange.public_id]),
        {"description": "no file"},
        headers={"Authorization": f"Bearer {court.key}"},
    )

    assert answer.status_code == 400
    assert "file" in answer.json()


def test_another_agency_cannot_attach(client: Client, court: Court, exchange: Exchange) -> None:
    other = AgencyFactory.create(ori="CT0009300", name="New Haven Police Department")
    _, key = make_api_client(other, [ApiScope.EXCHANGES_SUBMIT])

    assert attach(client, key, exchange, "a.pdf", PDF).status_code == 404


def test_attaching_is_audited(client: Client, court: Court, exchange: Exchange) -> None:
    attach(client, court.key, exchange, "arrest-report.pdf", PDF)

    event = AuditEvent.objects.get(action="ciss.exchange.attachment_added")
    assert event.object_id == str(exchange.public_id)
    assert event.details["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_sender_sees_attachments_on_the_exchange(
    client: Client, court: Court, exchange: Exchange
) -> None:
    attach(client, court.key, exchange, "arrest-report.pdf", PDF)

    detail = client.get(
        reverse("api-exchange", args=[exchange.public_id]),
        headers={"Authorization": f"Bearer {court.key}"},
    ).json()

    assert [a["name"] for a in detail["attachments"]] == ["arrest-report.pdf"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.4", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"II*\x00", "image/tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"fLaC\x00", "audio/flac"),
        (b"\x00\x00\x00\x20ftypM4A \x00", "audio/mp4"),
        (b"\x00\x00\x00\x20ftypisom\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f", "video/webm"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"PK\x03\x04", None),
        (b"<html><script>", None),
    ],
)
def test_sniffing(head: bytes, expected: str | None) -> None:
    assert sniff_content_type(head) == expected
