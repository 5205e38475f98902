"""What every intake (persons, record feeds; API or import command) shares: who submits,
what became of each record, the batch limit, and how identifiers are compared."""

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

if TYPE_CHECKING:
    from portal.models import ApiClient

BATCH_LIMIT = 1000
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


class Outcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged (same as stored)"
    STALE = "stale", "Not applied (older than stored)"
    ERROR = "error", "Rejected"


APPLIED = frozenset({Outcome.CREATED, Outcome.UPDATED})


@dataclass(frozen=True)
class Submitter:
    """Who sends the records: an agency's API client, or an import command run on the
    server (no actor; the audit rows name the command)."""

    api_client: "ApiClient | None" = None
    command: str = ""
    # Set by a caller that writes one audit row covering these records itself (an
    # exchange names the person and case it recorded): the intake then writes none, so a
    # request appends to the audit chain once.
    audited_by_caller: bool = False
    # Set by a caller that tells the followers of these records itself (an exchange alerts
    # the followers of its person and case): the intake then announces no change.
    announced_by_caller: bool = False

    def audit_details(self) -> dict[str, str]:
        return {"command": self.command} if self.command else {}


@dataclass
class RecordResult:
    """What became of one record of a submission. ``instance`` is the stored record (or
    person) when there is one; ``errors`` are field errors as DRF gives them."""

    index: int
    outcome: Outcome
    instance: Any = None
    errors: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # The record's (source_system, source_id), once validated.
    key: tuple[str, str] = ("", "")

    @property
    def applied(self) -> bool:
        return self.outcome in APPLIED

    def public_id(self) -> str | None:
        public_id = getattr(self.instance, "public_id", None)
        return str(public_id) if public_id is not None else None

    def as_dict(self) -> dict[str, Any]:
        """The per-record entry of a batch answer."""
        entry: dict[str, Any] = {
            "index": self.index,
            "status": str(self.outcome),
            "id": self.public_id(),
            "errors": self.errors,
        }
        if self.reason:
            entry["reason"] = self.reason
        return entry


class BatchTooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(
            f"A batch holds at most {BATCH_LIMIT:,} records; this one has {size:,}. "
            "Send it in several batches."
        )


_VALIDATORS = threading.local()


def record_validator(serializer_class: type[serializers.Serializer[Any]]) -> Any:
    """An unbound ``serializer_class`` to run ``run_validation`` with, one per thread and
    class, built once: building one constructs and deep-copies every field (some 60 for a
    case with its charges), a cost every record batch and every exchange paid. Validation
    keeps nothing on the serializer, but a thread of its own keeps it that way."""
    built: dict[type[Any], Any] = _VALIDATORS.__dict__.setdefault("built", {})
    validator = built.get(serializer_class)
    if validator is None:
        validator = built[serializer_class] = serializer_class()
    return validator


def check_batch_size(records: list[Any]) -> None:
    if len(records) > BATCH_LIMIT:
        raise BatchTooLarge(len(records))


def error_result(index: int, errors: Any) -> RecordResult:
    return RecordResult(index=index, outcome=Outcome.ERROR, errors=plain_errors(errors))


def plain_errors(errors: Any) -> dict[str, Any]:
    """DRF error details as plain JSON (strings, lists, dicts), always a dict."""
    detail = serializers.as_serializer_error(errors) if isinstance(errors, Exception) else errors
    return _plain(detail) if isinstance(detail, dict) else {"non_field_errors": _plain(detail)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, ErrorDetail):
        return str(value)
    return value


def stale_reason(incoming: datetime, stored: datetime) -> str:
    return (
        f"as_of {incoming.isoformat()} is older than the stored record's as_of "
        f"{stored.isoformat()}: the newer data is kept"
    )


def normalize_identifier(value: str) -> str:
    """Identifiers are stored and compared as capital letters and digits only, as the
    matcher compares them: ``ct 123-4567`` is ``CT1234567``."""
    return _NOT_ALNUM.sub("", value.upper())
