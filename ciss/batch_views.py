"""Batch search pages: upload a CSV of persons with a purpose, follow the search as it
runs (htmx polls a partial every ``POLL_SECONDS`` while it is queued or running), then
preview and download the results file.

Only the owner, or an auditor (``ciss.batch.BATCH_READERS``), reaches a batch; anyone
else gets 404. The search and the persons it shows are audited once, when the batch ends
(``ciss.batch``); downloads, and previews by someone other than the owner, are audited
as reads of the results.
"""

import uuid
from functools import partial
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ciss import batch as service
from ciss.batch_tasks import run_batch_search
from ciss.models import BatchSearch, BatchStatus
from ciss.models.batch import DEFAULT_PER_ROW, MAX_PER_ROW
from obts.access import RECORD_ROLES, Purpose
from portal.access import acting_user, require_roles
from portal.forms import PortalForm
from portal.models import User

# No analyst role exists: the roles that may search persons may search them in batches.
BATCH_ROLES = RECORD_ROLES
PAGE_SIZE = 20
POLL_SECONDS = 2
PREVIEW_LINES = 20
PURPOSE_NEEDED = "Choose the purpose of this batch search: files are searched only with a purpose."
FILE_NEEDED = "Choose the CSV file of persons to search."
FILE_EMPTY = "The file is empty: it needs a header line and one row a person."


class BatchUploadForm(PortalForm):
    purpose = forms.ChoiceField(
        label="Purpose of this batch search",
        choices=[("", "- Select -"), *Purpose.choices],
        help_text="Recorded in the audit log with every person the results show.",
        error_messages={"required": PURPOSE_NEEDED},
    )
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"UTF-8 CSV with a header line, at most {service.MAX_ROWS:,} rows and "
            f"{service.MAX_BYTES // (1024 * 1024)} MB. Columns: name (or first_name and "
            "last_name), and any of middle_name, dob (YYYY-MM-DD or MM/DD/YYYY), sex, sid, "
            "fbi_number, dl_number, reference."
        ),
        error_messages={"required": FILE_NEEDED, "empty": FILE_EMPTY, "invalid": FILE_NEEDED},
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )
    per_row = forms.IntegerField(
        label="Candidates per row",
        required=False,
        min_value=1,
        max_value=MAX_PER_ROW,
        initial=DEFAULT_PER_ROW,
        help_text=f"The best candidates listed for each row, 1-{MAX_PER_ROW}.",
    )

    def clean_per_row(self) -> int:
        value: int | None = self.cleaned_data.get("per_row")
        return DEFAULT_PER_ROW if value is None else value


def _list_context(
    request: HttpRequest, user: User, form: BatchUploadForm, problems: list[str]
) -> dict[str, Any]:
    batches = Paginator(service.user_batches(user), PAGE_SIZE)
    page = batches.get_page(request.GET.get("page"))
    return {
        "form": form,
        "problems": problems,
        "page": page,
        "max_rows": service.MAX_ROWS,
    }


@require_roles(*BATCH_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def batch_list_view(request: HttpRequest) -> HttpResponse:
    """The upload form and the user's own batches, newest first. A file refused is not
    searched at all; its problems are listed, with line numbers."""
    user = acting_user(request)
    problems: list[str] = []
    if request.method != "POST":
        form = BatchUploadForm()
        return render(request, "ciss/batch/list.html", _list_context(request, user, form, []))
    form = BatchUploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            batch = service.batch_create(
                owner=user, purpose=data["purpose"], upload=data["file"], per_row=data["per_row"]
            )
        except service.BatchRefused as refused:
            problems = refused.problems
            count = len(problems)
            form.add_error(
                "file",
                "The file was not searched: correct "
                + ("the problem listed above" if count == 1 else "the problems listed above")
                + " and upload it again.",
            )
        else:
            transaction.on_commit(partial(run_batch_search.delay, batch.pk))
            messages.success(
                request,
                f"“{batch.file_name}” uploaded: {batch.row_count:,} "
                f"row{'s' if batch.row_count != 1 else ''} to search. This page shows how "
                "far it has got.",
            )
            return redirect("ciss:batch_detail", public_id=batch.public_id)
    context = _list_context(request, user, form, problems)
    return render(request, "ciss/batch/list.html", context, status=400)


def _status_context(request: HttpRequest, user: User, batch: BatchSearch) -> dict[str, Any]:
    stuck = not batch.is_finished and service.batch_is_stuck(batch)
    preview = service.results_preview(batch, PREVIEW_LINES)
    if preview and batch.owner_id != user.pk:
        service.batch_results_read(batch=batch, actor=user, how="preview", request=request)
    return {
        "batch": batch,
        "stuck": stuck,
        "polling": not batch.is_finished and not stuck,
        "poll_seconds": POLL_SECONDS,
        "preview": preview,
        "preview_columns": service.RESULT_COLUMNS,
        "preview_lines": PREVIEW_LINES,
        "is_owner": batch.owner_id == user.pk,
        "purpose_label": Purpose(batch.purpose).label,
        "done": batch.status == BatchStatus.DONE,
        "unmatched": batch.row_count - batch.matched_rows,
    }


@require_roles(*BATCH_ROLES)
@require_GET
@never_cache
def batch_detail_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One batch: its state and progress, then its results."""
    user = acting_user(request)
    batch = service.access_batch(user, public_id)
    return render(request, "ciss/batch/detail.html", _status_context(request, user, batch))


@require_roles(*BATCH_ROLES)
@require_GET
@never_cache
def batch_progress_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The state block alone, for the detail page's polling; once the batch has ended it
    carries the results and no longer asks to be polled."""
    user = acting_user(request)
    batch = service.access_batch(user, public_id)
    context = {**_status_context(request, user, batch), "announce": True}
    return render(request, "ciss/batch/partials/status.html", context)


def _download_name(batch: BatchSearch) -> str:
    stem = PurePath(batch.file_name).stem or "batch"
    return f"{stem}-results.csv"


@require_roles(*BATCH_ROLES)
@require_GET
@never_cache
def batch_download_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse | FileResponse:
    """The results file, as a download (audited)."""
    user = acting_user(request)
    batch = service.access_batch(user, public_id)
    if batch.status != BatchStatus.DONE or not batch.results_file:
        messages.info(request, "The results are not ready: the file has not been searched yet.")
        return redirect("ciss:batch_detail", public_id=batch.public_id)
    try:
        handle = batch.results_file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The results file is missing; tell the help desk.") from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(batch),
        content_type="text/csv; charset=utf-8",
    )
    response["X-Content-Type-Options"] = "nosniff"
    service.batch_results_read(batch=batch, actor=user, how="download", request=request)
    return response


@require_roles(*BATCH_ROLES)
@require_GET
def batch_template_view(request: HttpRequest) -> HttpResponse:
    """A sample file to fill in: the header and a few example rows."""
    return HttpResponse(
        service.template_csv(),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="batch-search-template.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
