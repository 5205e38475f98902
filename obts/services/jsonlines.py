"""Bulk import from JSON Lines files (``import_persons``, ``import_feed``): one record per
line, sent to an intake service in batches, every problem reported with its line."""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from obts.services.intake import BATCH_LIMIT, Outcome, RecordResult

Upsert = Callable[[list[Any]], list[RecordResult]]
# Returns a problem with the record (then it is rejected), or None after adjusting it.
Check = Callable[[dict[str, Any]], str | None]


_COUNTED = ("created", "updated", "unchanged", "stale", "rejected")


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0))
    problems: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.counts["rejected"]

    def summary(self) -> str:
        return ", ".join(f"{name} {self.counts[name]}" for name in _COUNTED)

    def _reject(self, line: int, messages: Iterable[str]) -> None:
        self.counts["rejected"] += 1
        self.problems += [f"line {line}: {message}" for message in messages]


_RESULT_COUNT = {
    Outcome.CREATED: "created",
    Outcome.UPDATED: "updated",
    Outcome.UNCHANGED: "unchanged",
    Outcome.STALE: "stale",
}


def import_json_lines(
    lines: Iterable[str | bytes],
    upsert: Upsert,
    *,
    check: Check | None = None,
    batch_size: int = BATCH_LIMIT,
) -> ImportReport:
    """Parse each non-blank line (UTF-8) as one JSON object and upsert them ``batch_size`` at a
    time (each batch one transaction, each record its own savepoint). A line that is not
    a JSON object, fails ``check`` or is rejected by the service is counted as rejected
    and reported with its line number; the other lines still import."""
    report = ImportReport()
    for batch in _batches(_records(lines, report, check), batch_size):
        results = upsert([record for _, record in batch])
        for (line, _), result in zip(batch, results, strict=True):
            if result.outcome == Outcome.ERROR:
                report._reject(line, flatten_errors(result.errors))
            else:
                report.counts[_RESULT_COUNT[result.outcome]] += 1
    return report


def _records(
    lines: Iterable[str | bytes], report: ImportReport, check: Check | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            report._reject(number, ["not UTF-8 text"])
            continue
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as error:
            report._reject(number, [f"not valid JSON ({error})"])
            continue
        if not isinstance(record, dict):
            report._reject(number, ["a line must hold one JSON object"])
            continue
        problem = check(record) if check is not None else None
        if problem:
            report._reject(number, [problem])
            continue
        yield number, record


def _batches(
    records: Iterator[tuple[int, dict[str, Any]]], size: int
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    batch: list[tuple[int, dict[str, Any]]] = []
    for item in records:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def flatten_errors(errors: Any, prefix: str = "") -> list[str]:
    """DRF field errors as lines: ``aliases.1.last_name: This field is required.``"""
    if isinstance(errors, dict):
        lines = []
        for key, value in errors.items():
            name = "" if key == "non_field_errors" else str(key)
            lines += flatten_errors(
                value, f"{prefix}.{name}" if prefix and name else prefix or name
            )
        return lines
    if isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            return [f"{prefix}: {item}" if prefix else str(item) for item in errors]
        lines = []
        for position, item in enumerate(errors):
            if item:
                lines += flatten_errors(item, f"{prefix}.{position}" if prefix else str(position))
        return lines
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def source_check(source: str) -> Check:
    """Fill in a record's ``source_system`` from the command line; refuse a record that
    names another one."""

    def check(record: dict[str, Any]) -> str | None:
        given = record.get("source_system")
        if given not in (None, "", source):
            return f"source_system: {given!r} is not the --source given ({source!r})"
        record["source_system"] = source
        return None

    return check
