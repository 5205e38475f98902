"""Batch person search: an analyst uploads a CSV of persons and gets a results CSV back.

The upload (:func:`parse_batch`) is UTF-8 CSV, with or without a byte-order mark, whose
header names the columns: ``name``, or ``first_name`` and ``last_name`` (with an optional
``middle_name``); and optionally ``dob`` (YYYY-MM-DD or MM/DD/YYYY), ``sex``, ``sid``,
``fbi_number``, ``dl_number`` and ``reference`` (the analyst's own id for the row, echoed
back). A file with any bad line is refused whole, every problem listed with its line
number (up to ``MAX_PROBLEMS``): nothing is half run.

Each row is validated by the person search's own parameters
(``ciss.search.PersonSearchParameters``) and searched by the master name index's matcher
(``obts.services.matching.search_persons``) with the owner's visibility, exactly as
``ciss.search.persons_search`` does for one search. That service is not called per row
because it writes an audit row per search; a batch writes one audit row
(``BATCH_SEARCHED``) when it ends: the purpose, the number of rows and every person the
results show.

Lost workers: the task runs under ``TIME_LIMIT``; a batch still "running" after
``STALE_AFTER`` has lost its worker, so a redelivered task takes it over from the start
(results are written only at the end, so nothing is half written), and
:func:`batches_fail_stuck` (the ``fail_stuck_batch_searches`` task, for beat) marks such
batches failed so their owner knows to upload again.
"""

import csv
import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone

from ciss.models import BatchSearch, BatchStatus
from ciss.models.batch import MAX_PER_ROW
from ciss.search import NAME_MAX_LENGTH, PersonSearch, PersonSearchParameters
from obts.access import Purpose, visibility_for
from obts.models import Flag, Sex
from obts.services.matching import PersonHit, search_persons
from portal import audit
from portal.models import User
from portal.models.audit import Outcome
from portal.roles import Role

logger = logging.getLogger(__name__)

BATCH_SEARCHED = "ciss.search.batch"
BATCH_RESULTS_READ = "ciss.search.batch_results_read"
audit.register_actions(
    {
        BATCH_SEARCHED: "CISS: batch of persons searched",
        BATCH_RESULTS_READ: "CISS: batch search results read",
    }
)

MAX_ROWS = 5_000
MAX_BYTES = 5 * 1024 * 1024
MAX_PROBLEMS = 50
REFERENCE_MAX_LENGTH = 100
# Progress is saved every this many rows: one small UPDATE, so polling stays cheap.
PROGRESS_EVERY = 25
# A task is stopped (soft limit: the batch is failed with a message) after TIME_LIMIT;
# the worker is killed a minute later. Past STALE_AFTER a "running" batch has no worker.
TIME_LIMIT = timedelta(minutes=30)
STALE_AFTER = TIME_LIMIT + timedelta(minutes=2)
# A batch still queued after this long lost its message (or the workers are down).
QUEUED_STALE_AFTER = timedelta(hours=12)

# Who may read a batch that is not theirs (the results list criminal-justice information).
BATCH_READERS = (Role.AUDITOR,)

NAME_COLUMNS = ("name", "first_name", "middle_name", "last_name")
OPTIONAL_COLUMNS = ("dob", "sex", "sid", "fbi_number", "dl_number", "reference")
COLUMNS = (*NAME_COLUMNS, *OPTIONAL_COLUMNS)
IDENTIFIERS = ("sid", "fbi_number", "dl_number")
DOB_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
RESULT_COLUMNS = (
    "line",
    "reference",
    "searched_for",
    "result",
    "rank",
    "score",
    "person_id",
    "name",
    "dob",
    "sex",
    "flags",
    "why_matched",
    "record_url",
)
NO_MATCH = "no match"
MATCH = "match"
TEMPLATE_ROWS = (
    ("name", "dob", "sex", "sid", "reference"),
    ("Michaela Neumann", "1985-11-11", "F", "", "case 2026-118 witness"),
    ("Reyes, Daniel", "03/04/1979", "M", "", "case 2026-118 owner"),
    ("", "", "", "CT1234567", "SID only"),
)
_LABELS = {
    "name": "name",
    "first_name": "first name",
    "last_name": "last name",
    "sex": "sex",
    "sid": "SID",
    "fbi_number": "FBI number",
    "dl_number": "driver's licence number",
}
# Spreadsheets run a cell that starts with these as a formula: such cells are written
# with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class BatchRefused(Exception):
    """The upload cannot be searched; ``problems`` says why, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BatchRow:
    """One person to search: its line in the file, the analyst's reference, what was
    asked (for the results file) and the validated search."""

    line: int
    reference: str
    searched_for: str
    search: PersonSearch


# ---------------------------------------------------------------------------------------
# Reading the upload


def _header(cells: list[str]) -> list[str]:
    """The header's column names, folded ("First Name" reads as first_name); refused
    when a column is unknown, repeated, or the name columns do not add up."""
    columns = [cell.strip().casefold().replace(" ", "_").replace("-", "_") for cell in cells]
    problems: list[str] = []
    if len(cells) == 1 and ";" in cells[0]:
        raise BatchRefused(
            ["The columns are separated by semicolons: save the file as CSV with commas."]
        )
    unknown = [cell for cell, column in zip(cells, columns, strict=True) if column not in COLUMNS]
    if unknown:
        problems.append(
            "line 1: the header has columns this search does not read: "
            + ", ".join(f"“{cell}”" for cell in unknown)
            + ". Use name (or first_name and last_name, with middle_name if you have it), "
            "and any of " + ", ".join(OPTIONAL_COLUMNS) + "."
        )
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        problems.append("line 1: the header repeats " + ", ".join(repeated) + ".")
    has = set(columns)
    if "name" in has and has & {"first_name", "middle_name", "last_name"}:
        problems.append(
            "line 1: give either a name column or first_name and last_name columns, not both."
        )
    elif "name" not in has and not {"first_name", "last_name"} <= has:
        problems.append(
            "line 1: the header needs a name column, or first_name and last_name columns."
        )
    if problems:
        raise BatchRefused(problems)
    return columns


def _dob(value: str) -> date | None:
    for form in DOB_FORMATS:
        try:
            return datetime.strptime(value, form).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    return None


def _messages(detail: Any) -> Iterator[str]:
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _messages(value)
    elif isinstance(detail, list):
        for value in detail:
            yield from _messages(value)
    else:
        yield str(detail)


def _shown(value: str) -> str:
    return value if len(value) <= 40 else f"{value[:40]}…"


def _row(line: int, values: dict[str, str]) -> tuple[BatchRow | None, list[str]]:
    """The row's search, or the problems of the line."""
    problems: list[str] = []
    params = {
        name: values[name]
        for name in ("name", "first_name", "last_name", "sex", *IDENTIFIERS)
        if values.get(name)
    }
    dob = values.get("dob", "")
    born = _dob(dob) if dob else None
    if dob and born is None:
        problems.append(f"line {line}: the date of birth {_shown(dob)} is not a date")
    elif born is not None:
        params["dob"] = born.isoformat()
    middle = values.get("middle_name", "")
    if len(middle) > NAME_MAX_LENGTH:
        problems.append(f"line {line}: the middle name is longer than {NAME_MAX_LENGTH} characters")
    reference = values.get("reference", "")
    if len(reference) > REFERENCE_MAX_LENGTH:
        problems.append(
            f"line {line}: the reference is longer than {REFERENCE_MAX_LENGTH} characters"
        )
    parameters = PersonSearchParameters(data=params)
    if not parameters.is_valid():
        for field, detail in parameters.errors.items():
            for message in _messages(detail):
                if field in _LABELS:
                    value = _shown(params.get(field, ""))
                    problems.append(f"line {line}: {_LABELS[field]} “{value}”: {message}")
                else:
                    problems.append(
                        f"line {line}: nothing to search on: give a name, or an SID, FBI "
                        "number or driver's licence number (a date of birth or sex alone is "
                        "not a search)"
                    )
    if problems:
        return None, problems
    search = parameters.search()
    if middle:
        search = replace(search, names=[replace(name, middle=middle) for name in search.names])
    names = values.get("name") or " ".join(
        part for part in (values.get("first_name"), middle, values.get("last_name")) if part
    )
    asked = [names, params.get("dob", ""), params.get("sex", "")]
    asked += [f"{_LABELS[key]} {params[key]}" for key in IDENTIFIERS if params.get(key)]
    searched_for = ", ".join(part for part in asked if part)
    return BatchRow(line, reference, searched_for, search), []


def _lines(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as error:
        raise BatchRefused([f"line {reader.line_num}: this is not valid CSV ({error})"]) from error


def parse_batch(data: bytes) -> list[BatchRow]:
    """The rows of an uploaded file, each validated. Refuses (``BatchRefused``) a file
    that is empty, too large, not UTF-8 CSV, has more than ``MAX_ROWS`` rows, a header it
    cannot read, or any bad line: then every problem is listed, up to ``MAX_PROBLEMS``."""
    if not data.strip():
        raise BatchRefused(["The file is empty: it needs a header line and one row a person."])
    if len(data) > MAX_BYTES:
        raise BatchRefused(
            [f"The file is {_megabytes(len(data))}; the limit is {_megabytes(MAX_BYTES)}."]
        )
    if b"\x00" in data:
        raise BatchRefused(["This is not a CSV file: save the spreadsheet as CSV and upload that."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BatchRefused(
            [
                "The file is not UTF-8 text: in your spreadsheet, save it as “CSV UTF-8” "
                "and upload that."
            ]
        ) from error
    lines = _lines(text)
    columns: list[str] | None = None
    for _line, cells in lines:
        if any(cell.strip() for cell in cells):
            columns = _header(cells)
            break
    if columns is None:
        raise BatchRefused(["The file is empty: it needs a header line and one row a person."])
    rows: list[BatchRow] = []
    problems: list[str] = []
    count = 0
    for line, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            continue  # counted only, to say how many there are
        if len(cells) != len(columns):
            problems.append(
                f"line {line}: this line has {len(cells)} cells; the header has {len(columns)}"
            )
            continue
        values = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
        row, found = _row(line, values)
        problems += found
        if row is not None:
            rows.append(row)
    if count > MAX_ROWS:
        raise BatchRefused(
            [f"The file has {count:,} rows; a batch may have at most {MAX_ROWS:,}. Split it."]
        )
    if count == 0:
        raise BatchRefused(["The file has a header line but no rows of persons to search."])
    if problems:
        more = len(problems) - MAX_PROBLEMS
        listed = problems[:MAX_PROBLEMS]
        if more > 0:
            listed.append(f"… and {more} more problem{'s' if more > 1 else ''}.")
        raise BatchRefused(listed)
    return rows


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# ---------------------------------------------------------------------------------------
# Creating a batch


@transaction.atomic
def batch_create(
    *, owner: User, purpose: str, upload: UploadedFile[bytes], per_row: int
) -> BatchSearch:
    """Store ``upload`` as a queued batch of ``owner``'s, to search for ``purpose``.
    Refuses (``BatchRefused``) a file whose name is not .csv, one larger than
    ``MAX_BYTES`` and one :func:`parse_batch` refuses; ``ValueError`` for a purpose or
    ``per_row`` outside their choices. The caller queues ``run_batch_search`` on commit.
    Audited when it ends (``BATCH_SEARCHED``), with the records shown."""
    if purpose not in Purpose.values:
        raise ValueError(f"Unknown purpose {purpose!r}.")
    if not 1 <= per_row <= MAX_PER_ROW:
        raise ValueError(f"per_row must be between 1 and {MAX_PER_ROW}.")
    name = PurePath((upload.name or "batch.csv").replace("\\", "/")).name[:200]
    if not name.casefold().endswith(".csv"):
        raise BatchRefused(
            [f"“{name}” is not a CSV file: save the spreadsheet as CSV (.csv) and upload that."]
        )
    size = upload.size or 0
    if size > MAX_BYTES:
        raise BatchRefused(
            [f"The file is {_megabytes(size)}; the limit is {_megabytes(MAX_BYTES)}."]
        )
    upload.seek(0)
    data = upload.read()
    rows = parse_batch(data)
    batch = BatchSearch(
        owner=owner, purpose=purpose, file_name=name, row_count=len(rows), per_row=per_row
    )
    batch.input_file.save(name, ContentFile(data), save=False)
    batch.save()
    return batch


# ---------------------------------------------------------------------------------------
# Running a batch


def _locked(batch_id: int) -> BatchSearch | None:
    """The batch with its owner, locked for the caller's transaction (not the owner)."""
    return (
        BatchSearch.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=batch_id)
        .first()
    )


def _claim(batch_id: int, now: datetime) -> BatchSearch | None:
    """Mark the batch running for this run; None when it is not this run's to do: done,
    failed, gone, or running under a worker that may still be alive."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch is None:
            return None
        if batch.status == BatchStatus.QUEUED:
            action = "start"
        elif batch.status == BatchStatus.RUNNING and _stale(batch, now):
            logger.warning("batch search %s: taking over a run whose worker was lost", batch_id)
            action = "restart"
        else:
            return None
        batch.save(update_fields=batch.apply(action, now=now))
    return batch


def _stale(batch: BatchSearch, now: datetime) -> bool:
    if batch.status == BatchStatus.RUNNING:
        return batch.started_at is None or now - batch.started_at > STALE_AFTER
    if batch.status == BatchStatus.QUEUED:
        return now - batch.created_at > QUEUED_STALE_AFTER
    return False


def batch_is_stuck(batch: BatchSearch, now: datetime | None = None) -> bool:
    """Whether a queued or running batch has stopped making progress (its worker or its
    message was lost): the page says so instead of polling for ever."""
    return _stale(batch, now or timezone.now())


def _cell(value: object) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _record_url(hit: PersonHit, purpose: str) -> str:
    path = reverse("obts:person", kwargs={"public_id": hit.public_id})
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}?{urlencode({'purpose': purpose})}"


def _full_name(hit: PersonHit) -> str:
    parts = (hit.first_name, hit.middle_name, hit.last_name, hit.suffix)
    return " ".join(part for part in parts if part)


def _result_lines(row: BatchRow, hits: list[PersonHit], purpose: str) -> Iterator[list[str]]:
    start = [str(row.line), row.reference, row.searched_for]
    if not hits:
        yield [*start, NO_MATCH, *([""] * (len(RESULT_COLUMNS) - 4))]
        return
    for rank, hit in enumerate(hits, 1):
        flags = [Flag(code).label for code in hit.flags if code in Flag.values]
        yield [
            *start,
            MATCH,
            str(rank),
            f"{hit.score:.2f}",
            str(hit.public_id),
            _full_name(hit),
            hit.dob.isoformat() if hit.dob else "",
            Sex(hit.sex).label if hit.sex in Sex.values else hit.sex,
            "; ".join(flags),
            "; ".join(hit.reasons),
            _record_url(hit, purpose),
        ]


def _search(row: BatchRow, per_row: int, visibility: Any) -> list[PersonHit]:
    search = row.search
    return search_persons(
        names=search.names,
        sex=search.sex,
        sid=search.sid,
        fbi_number=search.fbi_number,
        dl_number=search.dl_number,
        limit=per_row,
        visibility=visibility,
    )


def batch_run(*, batch_id: int) -> BatchSearch | None:
    """Search every row of a queued batch as its owner and store the results file; the
    batch, done. None when there was nothing for this run to do (already done or failed,
    or running elsewhere), so a task delivered twice searches once. A batch its owner may
    no longer search (roles gone) is failed with the reason. Other errors propagate: the
    task fails the batch (``batch_fail``)."""
    now = timezone.now()
    batch = _claim(batch_id, now)
    if batch is None:
        return None
    try:
        visibility = visibility_for(batch.owner)
    except PermissionDenied as refused:
        return batch_fail(batch_id=batch_id, reason=f"Not searched: {refused}")
    with batch.input_file.open("rb") as handle:
        rows = parse_batch(handle.read())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    persons: dict[str, None] = {}  # ordered, once each
    lines = matched = 0
    for index, row in enumerate(rows, 1):
        hits = _search(row, batch.per_row, visibility)
        matched += bool(hits)
        persons.update((str(hit.public_id), None) for hit in hits)
        for cells in _result_lines(row, hits, batch.purpose):
            writer.writerow([_cell(cell) for cell in cells])
            lines += 1
        if index % PROGRESS_EVERY == 0:
            BatchSearch.objects.filter(pk=batch.pk, started_at=batch.started_at).update(
                progress_done=index
            )
    return _finish(batch, out.getvalue(), matched=matched, lines=lines, persons=list(persons))


def _finish(
    run: BatchSearch, text: str, *, matched: int, lines: int, persons: list[str]
) -> BatchSearch | None:
    with transaction.atomic():
        batch = BatchSearch.objects.select_for_update().filter(pk=run.pk).first()
        # Failed meanwhile, or taken over by a later run: that run's outcome stands.
        if batch is None or not batch.can("finish") or batch.started_at != run.started_at:
            return None
        # With a BOM, spreadsheets read the names' accents right.
        batch.results_file.save(
            f"{batch.public_id}.csv", ContentFile(text.encode("utf-8-sig")), save=False
        )
        batch.matched_rows, batch.result_lines = matched, lines
        fields = batch.apply("finish", now=timezone.now())
        batch.save(update_fields=[*fields, "results_file", "matched_rows", "result_lines"])
        audit.record(
            BATCH_SEARCHED,
            actor=batch.owner,
            target=batch,
            details={
                "purpose": batch.purpose,
                "file_name": batch.file_name,
                "rows": batch.row_count,
                "per_row": batch.per_row,
                "matched_rows": matched,
                "count": len(persons),
                "persons": persons,
            },
        )
    return batch


def batch_fail(*, batch_id: int, reason: str) -> BatchSearch | None:
    """Mark a queued or running batch failed with ``reason`` (shown to its owner) and
    audit it; a batch already done or failed is left as it is (None)."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch is None or not batch.can("fail"):
            return None
        batch.error = reason[:500]
        batch.save(update_fields=batch.apply("fail", now=timezone.now()))
        audit.record(
            BATCH_SEARCHED,
            actor=batch.owner,
            target=batch,
            outcome=Outcome.FAILURE,
            details={
                "purpose": batch.purpose,
                "file_name": batch.file_name,
                "rows": batch.row_count,
                "reason": batch.error,
                "count": 0,
                "persons": [],
            },
        )
    return batch


def batches_fail_stuck(now: datetime | None = None) -> int:
    """Fail the batches whose run was lost (running past ``STALE_AFTER``) or that never
    started (queued past ``QUEUED_STALE_AFTER``); how many. Meant for a periodic task."""
    now = now or timezone.now()
    stuck = BatchSearch.objects.filter(
        Q(status=BatchStatus.RUNNING, started_at__lt=now - STALE_AFTER)
        | Q(status=BatchStatus.QUEUED, created_at__lt=now - QUEUED_STALE_AFTER)
    ).values_list("pk", flat=True)
    reason = "The search stopped before it finished. Upload the file again."
    return sum(batch_fail(batch_id=pk, reason=reason) is not None for pk in list(stuck))


# ---------------------------------------------------------------------------------------
# Reading batches


def user_batches(user: User) -> QuerySet[BatchSearch]:
    """The user's own batches, newest first."""
    return BatchSearch.objects.filter(owner=user).defer("error")


def access_batch(user: User, public_id: uuid.UUID) -> BatchSearch:
    """The batch, for its owner or a reader of others' batches (``BATCH_READERS``);
    404 for anyone else, so a batch's existence is not told."""
    batch = BatchSearch.objects.select_related("owner").filter(public_id=public_id).first()
    if batch is None or (batch.owner_id != user.pk and not user.has_role(*BATCH_READERS)):
        raise Http404("No such batch search.")
    return batch


def results_preview(batch: BatchSearch, limit: int = 20) -> list[dict[str, str]]:
    """The first ``limit`` lines of a done batch's results file."""
    if batch.status != BatchStatus.DONE or not batch.results_file:
        return []
    with batch.results_file.open("rb") as handle:
        reader = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline=""))
        return [row for row, _ in zip(reader, range(limit), strict=False)]


def batch_results_read(
    *, batch: BatchSearch, actor: User, how: str, request: HttpRequest | None = None
) -> None:
    """Audit that ``actor`` read ``batch``'s results (``how``: download or preview)."""
    audit.record(
        BATCH_RESULTS_READ,
        actor=actor,
        request=request,
        target=batch,
        details={
            "how": how,
            "owner": batch.owner.get_username(),
            "purpose": batch.purpose,
            "rows": batch.row_count,
        },
    )


def template_csv() -> bytes:
    """A sample upload: the header and a few rows, UTF-8 with a BOM for spreadsheets."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(TEMPLATE_ROWS)
    return out.getvalue().encode("utf-8-sig")
