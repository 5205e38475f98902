"""Batch person search: reading the upload (both date formats, byte-order mark, missing
columns, every bad line listed with its number, the row limit), the pages from upload to
download with Celery eager, the progress partial, who may read a batch, the one audit
row of a batch with its purpose and the persons shown, and a task that is not run twice.
"""

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss import batch as service
from ciss.batch import BATCH_RESULTS_READ, BATCH_SEARCHED, BatchRefused, parse_batch
from ciss.batch_tasks import fail_stuck_batch_searches, run_batch_search
from ciss.models import BatchSearch, BatchStatus, BatchTransitionError
from obts.models import Person
from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.ciss.test_person_search_api import DOB, indexed_person
from tests.obts.factories_records import cj_user

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

OnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
AUDIT = "audit"


@pytest.fixture(autouse=True)
def media(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def committed(django_capture_on_commit_callbacks: OnCommit) -> Callable[[], Any]:
    """Run what the request queues on commit (the task, eagerly) before it returns."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def michaela() -> Person:
    """Among persons with similar names."""
    person = indexed_person("Michaela", "Neumann", sex="F")
    indexed_person("Michael", "Newman", date(1979, 3, 4))
    indexed_person("Martha", "Neumann", date(1950, 6, 7), sex="F")
    return person


@pytest.fixture
def officer_client(signed_in: Callable[[User], Client], officer: User) -> Client:
    return signed_in(officer)


@pytest.fixture
def colleague(agency: Agency) -> User:
    """Another officer of the same agency: may search, but not read the officer's batch."""
    return cj_user("colleague", agency)


def csv_bytes(*rows: tuple[str, ...], bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def upload(data: bytes, name: str = "persons.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def refusal(data: bytes) -> list[str]:
    with pytest.raises(BatchRefused) as refused:
        parse_batch(data)
    return refused.value.problems


def post(
    client: Client, data: bytes | None, purpose: str = AUDIT, name: str = "persons.csv"
) -> "Response":
    form: dict[str, Any] = {"purpose": purpose}
    if data is not None:
        form["file"] = upload(data, name)
    return client.post(reverse("ciss:batch_list"), form)


def results(batch: BatchSearch) -> list[dict[str, str]]:
    batch.refresh_from_db()
    with batch.results_file.open("rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode("utf-8-sig"))))


def make_batch(owner: User, data: bytes) -> BatchSearch:
    return service.batch_create(owner=owner, purpose=AUDIT, upload=upload(data), per_row=3)


TWO_ROWS = csv_bytes(
    ("name", "dob", "reference"),
    ("Micheala Neuman", "11/11/1985", "R-1"),
    ("Zbigniew Quixotic", "1901-01-01", "R-2"),
)


# ---------------------------------------------------------------------------------------
# Reading the upload


def test_dates_of_birth_are_read_in_both_formats() -> None:
    rows = parse_batch(
        csv_bytes(("name", "dob"), ("Ann Lee", "1985-11-11"), ("Bo Reyes", "03/04/1979"))
    )
    assert [row.search.names[0].dob for row in rows] == [DOB, date(1979, 3, 4)]


def test_byte_order_mark_does_not_spoil_the_first_column() -> None:
    rows = parse_batch(csv_bytes(("name", "reference"), ("Ann Lee", "A"), bom=True))
    assert rows[0].reference == "A"
    assert rows[0].search.names[0].last == "Lee"


def test_first_middle_and_last_name_columns_are_searched_together() -> None:
    rows = parse_batch(
        csv_bytes(("First Name", "middle_name", "last_name"), ("Ann", "Marie", "Lee"))
    )
    name = rows[0].search.names[0]
    assert (name.first, name.middle, name.last) == ("Ann", "Marie", "Lee")
    assert rows[0].searched_for == "Ann Marie Lee"


def test_header_without_a_name_column_is_refused() -> None:
    problems = refusal(csv_bytes(("first_name", "dob"), ("Ann", "1985-11-11")))
    assert problems == [
        "line 1: the header needs a name column, or first_name and last_name columns."
    ]


def test_unknown_column_is_named() -> None:
    problems = refusal(csv_bytes(("name", "date_of_birth"), ("Ann Lee", "1985-11-11")))
    assert "“date_of_birth”" in problems[0]


def test_every_bad_line_is_listed_with_its_number() -> None:
    problems = refusal(
        csv_bytes(
            ("name", "dob", "sex"),
            ("Ann Lee", "1985-11-11", "F"),
            ("Bo Reyes", "1985-13-01", "M"),
            ("Cy Dunn", "1970-01-01", "X"),
            ("", "1970-01-01", ""),
        )
    )
    assert problems[0] == "line 3: the date of birth 1985-13-01 is not a date"
    assert problems[1].startswith("line 4: sex “X”")
    assert problems[2].startswith("line 5: nothing to search on")
    assert len(problems) == 3


def test_line_with_too_few_cells_is_reported() -> None:
    problems = refusal(csv_bytes(("name", "dob"), ("Ann Lee",)))
    assert problems == ["line 2: this line has 1 cells; the header has 2"]


def test_problems_are_listed_up_to_the_cap() -> None:
    rows = [("Ann Lee", "bad")] * (service.MAX_PROBLEMS + 5)
    problems = refusal(csv_bytes(("name", "dob"), *rows))
    assert len(problems) == service.MAX_PROBLEMS + 1
    assert problems[-1] == "… and 5 more problems."


def test_too_many_rows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "MAX_ROWS", 3)
    problems = refusal(csv_bytes(("name",), *[("Ann Lee",)] * 4))
    assert problems == ["The file has 4 rows; a batch may have at most 3. Split it."]


def test_empty_file_and_header_only_file_are_refused() -> None:
    assert refusal(b"")[0].startswith("The file is empty")
    assert refusal(csv_bytes(("name", "dob")))[0].startswith("The file has a header line but no")


def test_file_that_is_not_utf8_is_refused() -> None:
    assert "UTF-8" in refusal("name\nJosé Núñez\n".encode("latin-1"))[0]


def test_blank_lines_are_skipped() -> None:
    rows = parse_batch(b"name\r\n\r\nAnn Lee\r\n,\r\n")
    assert [row.line for row in rows] == [3]


# ---------------------------------------------------------------------------------------
# The upload page


def test_upload_page_offers_purpose_file_and_template(officer_client: Client) -> None:
    response = officer_client.get(reverse("ciss:batch_list"))
    text = response.content.decode()
    assert response.status_code == 200
    assert 'for="id_purpose"' in text
    assert 'for="id_file"' in text
    assert reverse("ciss:batch_template") in text


def test_template_download_is_a_csv_attachment_the_parser_accepts(
    officer_client: Client,
) -> None:
    response = officer_client.get(reverse("ciss:batch_template"))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"].startswith("text/csv")
    assert len(parse_batch(response.content)) == 3


def test_upload_without_purpose_is_refused(officer_client: Client) -> None:
    response = post(officer_client, TWO_ROWS, purpose="")
    assert response.status_code == 400
    assert "Choose the purpose of this batch search" in response.content.decode()
    assert not BatchSearch.objects.exists()


def test_upload_without_file_is_refused(officer_client: Client) -> None:
    response = post(officer_client, None)
    assert response.status_code == 400
    assert "Choose the CSV file of persons to search." in response.content.decode()


def test_empty_upload_is_refused(officer_client: Client) -> None:
    response = post(officer_client, b"")
    assert response.status_code == 400
    assert "The file is empty" in response.content.decode()


def test_upload_that_is_not_csv_is_refused(officer_client: Client) -> None:
    response = post(officer_client, b"PK\x03\x04rest", name="persons.xlsx")
    assert response.status_code == 400
    assert "is not a CSV file" in response.content.decode()
    assert not BatchSearch.objects.exists()


def test_too_large_upload_is_refused(
    officer_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_BYTES", 20)
    response = post(officer_client, TWO_ROWS)
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()


def test_bad_lines_are_listed_on_the_page_and_nothing_is_searched(
    officer_client: Client, committed: Callable[[], Any]
) -> None:
    data = csv_bytes(("name", "dob"), ("Ann Lee", "1985-11-11"), ("Bo Reyes", "1985-13-01"))
    with committed():
        response = post(officer_client, data)
    text = response.content.decode()
    assert response.status_code == 400
    assert "line 3: the date of birth 1985-13-01 is not a date" in text
    assert not BatchSearch.objects.exists()
    assert not AuditEvent.objects.filter(action=BATCH_SEARCHED).exists()


# ---------------------------------------------------------------------------------------
# From upload to results


@pytest.fixture
def searched(
    officer_client: Client, michaela: Person, committed: Callable[[], Any]
) -> tuple[BatchSearch, "Response"]:
    with committed():
        response = post(officer_client, TWO_ROWS)
    return BatchSearch.objects.get(), response


def test_upload_runs_the_search_and_shows_it_done(
    officer_client: Client, searched: tuple[BatchSearch, "Response"]
) -> None:
    batch, response = searched
    assert response.status_code == 302
    assert response["Location"] == reverse("ciss:batch_detail", args=[batch.public_id])
    page = officer_client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page
    assert "1 matched at least one person, 1 had no match" in page
    assert reverse("ciss:batch_download", args=[batch.public_id]) in page
    assert "hx-trigger" not in page


def test_results_put_the_right_person_first_for_a_misspelled_name(
    officer_client: Client, searched: tuple[BatchSearch, "Response"], michaela: Person
) -> None:
    batch, _ = searched
    response = officer_client.get(reverse("ciss:batch_download", args=[batch.public_id]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="persons-results.csv"'
    lines = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    first = lines[0]
    assert (first["line"], first["reference"], first["rank"]) == ("2", "R-1", "1")
    assert first["person_id"] == str(michaela.public_id)
    assert first["name"] == "Michaela Neumann"
    assert first["dob"] == "1985-11-11"
    assert first["why_matched"]
    assert first["record_url"].endswith(
        f"{reverse('obts:person', args=[michaela.public_id])}?purpose=audit"
    )


def test_a_row_without_candidates_gets_one_no_match_line(
    searched: tuple[BatchSearch, "Response"],
) -> None:
    batch, _ = searched
    misses = [line for line in results(batch) if line["reference"] == "R-2"]
    assert [(line["line"], line["result"], line["person_id"]) for line in misses] == [
        ("3", "no match", "")
    ]


def test_page_previews_the_first_result_lines(
    officer_client: Client, searched: tuple[BatchSearch, "Response"]
) -> None:
    batch, _ = searched
    page = officer_client.get(reverse("ciss:batch_detail", args=[batch.public_id]))
    text = page.content.decode()
    assert "Michaela Neumann" in text
    assert 'data-result="no match"' in text


def test_batch_writes_one_audit_row_with_purpose_and_persons_shown(
    officer: User, searched: tuple[BatchSearch, "Response"], michaela: Person
) -> None:
    batch, _ = searched
    event = AuditEvent.objects.get(action=BATCH_SEARCHED)
    assert event.actor == officer
    assert event.object_id == str(batch.public_id)
    assert event.details["purpose"] == AUDIT
    assert event.details["rows"] == 2
    assert str(michaela.public_id) in event.details["persons"]
    assert event.details["count"] == len(event.details["persons"])
    assert not AuditEvent.objects.filter(action="ciss.search.persons").exists()


def test_list_shows_the_users_own_batches_newest_first(
    officer: User, officer_client: Client, colleague: User
) -> None:
    old = make_batch(officer, TWO_ROWS)
    BatchSearch.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))
    new = make_batch(officer, TWO_ROWS)
    theirs = make_batch(colleague, TWO_ROWS)
    text = officer_client.get(reverse("ciss:batch_list")).content.decode()
    assert text.index(str(new.public_id)) < text.index(str(old.public_id))
    assert str(theirs.public_id) not in text


def test_spreadsheet_formulas_in_the_input_are_not_written_as_formulas(
    officer: User, michaela: Person
) -> None:
    batch = make_batch(officer, csv_bytes(("name", "reference"), ("Michaela Neumann", "=1+1")))
    run_batch_search(batch.pk)
    assert {line["reference"] for line in results(batch)} == {"'=1+1"}


# ---------------------------------------------------------------------------------------
# Progress


def test_progress_partial_asks_to_be_polled_while_queued(
    officer: User, officer_client: Client
) -> None:
    batch = make_batch(officer, TWO_ROWS)
    response = officer_client.get(reverse("ciss:batch_progress", args=[batch.public_id]))
    text = response.content.decode()
    assert 'hx-trigger="every 2s"' in text
    assert "Waiting to start" in text
    assert "<html" not in text


def test_progress_partial_shows_rows_searched_while_running(
    officer: User, officer_client: Client
) -> None:
    batch = make_batch(officer, TWO_ROWS)
    BatchSearch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, started_at=timezone.now(), progress_done=1, progress_total=2
    )
    text = officer_client.get(
        reverse("ciss:batch_progress", args=[batch.public_id])
    ).content.decode()
    assert "1 of 2 rows searched" in text
    assert 'value="50"' in text


def test_progress_partial_stops_polling_and_offers_the_download_when_done(
    officer: User, officer_client: Client, michaela: Person
) -> None:
    batch = make_batch(officer, TWO_ROWS)
    run_batch_search(batch.pk)
    text = officer_client.get(
        reverse("ciss:batch_progress", args=[batch.public_id])
    ).content.decode()
    assert "hx-trigger" not in text
    assert reverse("ciss:batch_download", args=[batch.public_id]) in text
    assert "Batch search done." in text


def test_progress_is_saved_every_few_rows(
    officer: User, michaela: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = service._search

    def spy(row: service.BatchRow, per_row: int, visibility: Any) -> Any:
        seen.append(BatchSearch.objects.get().progress_done)
        return real(row, per_row, visibility)

    monkeypatch.setattr(service, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(service, "_search", spy)
    batch = make_batch(officer, csv_bytes(("name",), *[("Michaela Neumann",)] * 5))
    run_batch_search(batch.pk)
    assert seen == [0, 0, 2, 2, 4]


# ---------------------------------------------------------------------------------------
# Who may read a batch


def test_a_user_without_a_search_role_is_refused_every_batch_page(
    signed_in: Callable[[User], Client], outsider: User, searched: tuple[BatchSearch, Any]
) -> None:
    batch, _ = searched
    client = signed_in(outsider)
    assert client.get(reverse("ciss:batch_list")).status_code == 403
    assert client.get(reverse("ciss:batch_template")).status_code == 403
    for name in ("ciss:batch_download", "ciss:batch_detail", "ciss:batch_progress"):
        assert client.get(reverse(name, args=[batch.public_id])).status_code == 403


def test_another_user_cannot_download_or_see_a_batch(
    signed_in: Callable[[User], Client], colleague: User, searched: tuple[BatchSearch, Any]
) -> None:
    batch, _ = searched
    client = signed_in(colleague)
    for name in ("ciss:batch_download", "ciss:batch_detail", "ciss:batch_progress"):
        assert client.get(reverse(name, args=[batch.public_id])).status_code == 404


def test_auditor_downloads_a_batch_and_the_read_is_audited(
    signed_in: Callable[[User], Client], auditor: User, searched: tuple[BatchSearch, Any]
) -> None:
    batch, _ = searched
    response = signed_in(auditor).get(reverse("ciss:batch_download", args=[batch.public_id]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=BATCH_RESULTS_READ)
    assert event.actor == auditor
    assert event.details["how"] == "download"


def test_download_before_the_results_are_ready_goes_back_to_the_batch(
    officer: User, officer_client: Client
) -> None:
    batch = make_batch(officer, TWO_ROWS)
    response = officer_client.get(reverse("ciss:batch_download", args=[batch.public_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("ciss:batch_detail", args=[batch.public_id])


def test_detail_page_refuses_post(officer: User, officer_client: Client) -> None:
    batch = make_batch(officer, TWO_ROWS)
    response = officer_client.post(reverse("ciss:batch_detail", args=[batch.public_id]))
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# The task


def test_task_delivered_twice_does_not_search_again(officer: User, michaela: Person) -> None:
    batch = make_batch(officer, TWO_ROWS)
    assert run_batch_search(batch.pk) == BatchStatus.DONE
    batch.refresh_from_db()
    first_file = batch.results_file.name
    assert run_batch_search(batch.pk) == "skipped"
    batch.refresh_from_db()
    assert batch.results_file.name == first_file
    assert AuditEvent.objects.filter(action=BATCH_SEARCHED).count() == 1


def test_batch_running_under_a_live_worker_is_left_to_it(officer: User) -> None:
    batch = make_batch(officer, TWO_ROWS)
    BatchSearch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, started_at=timezone.now()
    )
    assert run_batch_search(batch.pk) == "skipped"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RUNNING


def test_batch_whose_worker_was_lost_is_taken_over(officer: User, michaela: Person) -> None:
    batch = make_batch(officer, TWO_ROWS)
    lost = timezone.now() - service.STALE_AFTER - timedelta(minutes=1)
    BatchSearch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, started_at=lost)
    assert run_batch_search(batch.pk) == BatchStatus.DONE


def test_stuck_batches_are_failed_with_a_message(officer: User, officer_client: Client) -> None:
    batch = make_batch(officer, TWO_ROWS)
    lost = timezone.now() - service.STALE_AFTER - timedelta(minutes=1)
    BatchSearch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, started_at=lost)
    page = officer_client.get(reverse("ciss:batch_detail", args=[batch.public_id]))
    assert "stopped making progress" in page.content.decode()
    assert fail_stuck_batch_searches() == 1
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert "Upload the file again" in batch.error


def test_unexpected_error_fails_the_batch_with_a_message(
    officer: User, officer_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "_search", broken)
    batch = make_batch(officer, TWO_ROWS)
    assert run_batch_search(batch.pk) == "failed"
    page = officer_client.get(reverse("ciss:batch_detail", args=[batch.public_id]))
    text = page.content.decode()
    assert "unexpected error (RuntimeError)" in text
    assert "database went away" not in text
    assert AuditEvent.objects.get(action=BATCH_SEARCHED).outcome == "failure"


def test_owner_who_lost_the_roles_to_search_gets_a_failed_batch(officer: User) -> None:
    batch = make_batch(officer, TWO_ROWS)
    officer.role_grants.filter(role=Role.OFFICER).delete()
    run_batch_search(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.error.startswith("Not searched:")


def test_done_batch_cannot_be_failed() -> None:
    batch = BatchSearch(status=BatchStatus.DONE)
    with pytest.raises(BatchTransitionError):
        batch.apply("fail", now=timezone.now())
