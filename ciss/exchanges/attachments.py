"""Attachments of exchanges: arrest forms (PDF), photographs, recorded statements (audio)
and video. The type is found from the file's first bytes, never from its name or the
type the sender declared; anything else is refused. The file is stored through Django's
default storage under an opaque name, with its SHA-256.
"""

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from ciss.models import Exchange, ExchangeAttachment
from portal import audit
from portal.models import ApiClient

SNIFF_BYTES = 64
ALLOWED_DESCRIPTION = (
    "PDF, images (JPEG, PNG, GIF, TIFF, WebP), audio (MP3, WAV, Ogg, FLAC, M4A) and "
    "video (MP4, QuickTime, WebM, AVI)"
)


class AttachmentRefused(Exception):
    """``status`` is the HTTP answer: 413 too large, 415 not an accepted type, 400."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def sniff_content_type(head: bytes) -> str | None:
    """The media type of a file from its first bytes; None when not an accepted type."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(
            head[8:12]
        )
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"M4A"):
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return None


def attachment_add(
    *, exchange: Exchange, upload: UploadedFile[bytes], description: str, api_client: ApiClient
) -> ExchangeAttachment:
    """Store ``upload`` on ``exchange``. Refuses (``AttachmentRefused``) an empty file, one
    larger than ``CISS_ATTACHMENT_MAX_BYTES`` and one whose bytes are not an accepted
    type."""
    limit = settings.CISS_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size == 0:
        raise AttachmentRefused(400, "The file is empty.")
    if size > limit:
        raise AttachmentRefused(
            413, f"The file is {_megabytes(size)}; attachments are limited to {_megabytes(limit)}."
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise AttachmentRefused(
            415, f"The file's content is not an accepted type. Accepted: {ALLOWED_DESCRIPTION}."
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "attachment").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        attachment = ExchangeAttachment(
            exchange=exchange,
            original_name=name,
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
            description=description[:200],
            api_client=api_client,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        audit.record(
            "ciss.exchange.attachment_added",
            api_client=api_client,
            target=exchange,
            details={
                "attachment": str(attachment.public_id),
                "name": name,
                "content_type": content_type,
                "size": size,
                "sha256": attachment.sha256,
            },
        )
    return attachment


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_payload(attachment: ExchangeAttachment) -> dict[str, Any]:
    return {
        "id": str(attachment.public_id),
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "description": attachment.description,
        "uploaded_at": attachment.uploaded_at.isoformat(),
    }
