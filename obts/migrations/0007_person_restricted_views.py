from typing import Any

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from obts.status import RECORD_RELATIONS, compute_restricted_views, facts_for

BATCH = 1000


def fill_restricted_views(apps: Any, schema_editor: Any) -> None:
    """A person without juvenile or sealed cases looks the same to every reader (an empty
    object, one statement for all of them); the others have their restricted views
    computed from their records, a batch at a time."""
    person_model = apps.get_model("obts", "Person")
    case_model = apps.get_model("obts", "Case")
    hidden = case_model.objects.filter(
        Q(is_juvenile=True) | Q(is_sealed=True), person_id=OuterRef("pk")
    )
    person_model.objects.filter(~Exists(hidden)).update(restricted_views={})
    today = timezone.localdate()
    last = 0
    while True:
        batch = list(
            person_model.objects.filter(Exists(hidden), pk__gt=last)
            .order_by("pk")
            .prefetch_related(*RECORD_RELATIONS)[:BATCH]
        )
        if not batch:
            break
        for person in batch:
            person.restricted_views = compute_restricted_views(facts_for(person), today)
        person_model.objects.bulk_update(batch, ["restricted_views"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("obts", "0006_address_location_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="restricted_views",
            field=models.JSONField(blank=True, default=None, null=True),
        ),
        migrations.RunPython(fill_restricted_views, migrations.RunPython.noop, elidable=True),
    ]
