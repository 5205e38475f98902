"""Name keys stored as 64-bit hashes with (key, name) as the primary key.

Django cannot change a table's primary key in place, so the table is dropped and made
again; the keys are derived data and are rebuilt from the names (in either direction).
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

from obts.matching import key_hashes, name_keys

BATCH = 2000


def rebuild_keys(apps: Any, schema_editor: Any) -> None:
    PersonName = apps.get_model("obts", "PersonName")
    NameKey = apps.get_model("obts", "NameKey")
    hashed = isinstance(NameKey._meta.get_field("key"), models.BigIntegerField)
    names = PersonName.objects.using(schema_editor.connection.alias).order_by("pk")
    last = 0
    while True:
        batch = list(
            names.filter(pk__gt=last).values_list(
                "pk", "first_name", "middle_name", "last_name", "dob"
            )[:BATCH]
        )
        if not batch:
            return
        rows = []
        for pk, first, middle, last_name, dob in batch:
            keys = name_keys(first, middle, last_name, dob)
            values = key_hashes(keys) if hashed else sorted(keys)
            rows += [NameKey(name_id=pk, key=value) for value in values]
        NameKey.objects.using(schema_editor.connection.alias).bulk_create(rows)
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("obts", "0002_personmerge_reason")]

    operations = [
        # Going back, this runs last: the text keys of the old table, from the names.
        migrations.RunPython(migrations.RunPython.noop, rebuild_keys),
        migrations.DeleteModel(name="NameKey"),
        migrations.CreateModel(
            name="NameKey",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "key",
                        "name_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("key", models.BigIntegerField()),
                (
                    "name",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="keys",
                        to="obts.personname",
                    ),
                ),
            ],
        ),
        migrations.RunPython(rebuild_keys, migrations.RunPython.noop),
    ]
