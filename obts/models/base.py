import uuid

from django.db import models
from django.utils import timezone


class SourceRecord(models.Model):
    """Provenance every record carries: which system sent it, under which id, as of when
    that system knew it, and when the portal received it. Feeds upsert by
    ``(source_system, source_id)``; an update with an older ``as_of`` than the stored one
    is ignored, so replays and out-of-order deliveries never overwrite newer data."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source_system = models.CharField(max_length=40)
    source_id = models.CharField(max_length=80)
    as_of = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @classmethod
    def provenance_constraint(cls, name: str) -> models.UniqueConstraint:
        return models.UniqueConstraint(fields=["source_system", "source_id"], name=name)
