"""Batch person searches: an analyst uploads a CSV of names and dates of birth and gets a
results file back, searched by a Celery task (``ciss.batch_tasks``).

A ``BatchSearch`` goes queued -> running -> done, or to failed from queued or running;
its changes go through ``BatchSearch.TRANSITIONS``. The uploaded file and the results are
stored through Django's default storage under opaque names that are never served as
media: only ``ciss.batch_views`` hands them out, to the owner and auditors.
"""

import uuid
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from obts.access import Purpose

DEFAULT_PER_ROW = 3
MAX_PER_ROW = 10


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BatchTransitionError(Exception):
    """A batch was asked for a change its state does not allow."""


def _input_path(instance: "BatchSearch", filename: str) -> str:
    # Opaque: the analyst's file name is kept in a field, never in a path.
    return f"batch/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-input"


def _results_path(instance: "BatchSearch", filename: str) -> str:
    return f"batch/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-results"


class BatchSearch(models.Model):
    """One uploaded file of persons to search, searched as its owner with one purpose."""

    # Action -> (states it may start from, state it leaves). One place for every change.
    # "restart" is a task taking over a run whose worker was lost (see ciss.batch).
    TRANSITIONS: ClassVar[dict[str, tuple[frozenset[str], str]]] = {
        "start": (frozenset({BatchStatus.QUEUED}), BatchStatus.RUNNING),
        "restart": (frozenset({BatchStatus.RUNNING}), BatchStatus.RUNNING),
        "finish": (frozenset({BatchStatus.RUNNING}), BatchStatus.DONE),
        "fail": (frozenset({BatchStatus.QUEUED, BatchStatus.RUNNING}), BatchStatus.FAILED),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batch_searches"
    )
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    file_name = models.CharField(max_length=200, help_text="As uploaded; shown, never a path.")
    input_file = models.FileField(upload_to=_input_path, max_length=200)
    row_count = models.PositiveIntegerField(help_text="Rows of persons in the uploaded file.")
    per_row = models.PositiveSmallIntegerField(
        default=DEFAULT_PER_ROW, help_text="Candidates listed at most for each row."
    )
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    results_file = models.FileField(upload_to=_results_path, max_length=200, blank=True)
    matched_rows = models.PositiveIntegerField(default=0)
    result_lines = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batch searches"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="batch_search_owner"),
            models.Index(fields=["status", "created_at"], name="batch_search_status"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (BatchStatus.DONE, BatchStatus.FAILED)

    @property
    def percent(self) -> int:
        """How far the search is, 0-100, for the progress bar."""
        if self.status == BatchStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    def can(self, action: str) -> bool:
        allowed, _ = self.TRANSITIONS[action]
        return self.status in allowed

    def apply(self, action: str, *, now: datetime) -> list[str]:
        """Change the batch as ``action`` says; the fields changed, to save. Raises
        ``BatchTransitionError`` when its state does not allow it."""
        allowed, target = self.TRANSITIONS[action]
        if self.status not in allowed:
            raise BatchTransitionError(
                f"This batch search is {self.get_status_display().lower()}, so it cannot {action}."
            )
        self.status = target
        if action in ("start", "restart"):
            self.started_at, self.progress_done = now, 0
            self.progress_total = self.row_count
            return ["status", "started_at", "progress_done", "progress_total"]
        self.finished_at = now
        if action == "finish":
            self.progress_done = self.progress_total
            return ["status", "finished_at", "progress_done"]
        return ["status", "finished_at", "error"]
