from django.conf import settings
from django.db import models
from django.utils import timezone

from obts.models.persons import Person


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Not the same person"


class PossibleDuplicate(models.Model):
    """Intake could not tell whether a new record is an existing person: a CJIS reviewer
    decides (merge, or mark as different people)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "candidate"], name="duplicate_pair")
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="duplicate_status")]

    def __str__(self) -> str:
        return f"Possible duplicate {self.person_id} ~ {self.candidate_id} ({self.score:.2f})"


class PersonMerge(models.Model):
    """A merge of ``merged`` into ``survivor``, with what was moved, so it can be undone."""

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    moved = models.JSONField(default=dict, help_text="record kind -> ids moved to the survivor")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(help_text="Why the reviewer merged the two persons.")
    undo_reason = models.TextField(blank=True, help_text="Why the merge was undone.")

    def __str__(self) -> str:
        return f"Merge of {self.merged_id} into {self.survivor_id}"
