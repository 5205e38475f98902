"""Trigram search over names: a generated ``search_name`` column on every database, and on
PostgreSQL the pg_trgm extension with a GIN trigram index on it (SQLite has no trigram
index; there the name keys alone find candidates)."""

from typing import Any

import django.db.models.functions.text
from django.db import migrations, models

INDEX = "person_name_trigram"


def create_trigram_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON obts_personname "
        "USING gin (search_name gin_trgm_ops)"
    )


def drop_trigram_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("obts", "0003_namekey_hash")]

    operations = [
        migrations.AddField(
            model_name="personname",
            name="search_name",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper(
                    django.db.models.functions.text.Concat(
                        "last_name", models.Value(" "), "first_name"
                    )
                ),
                output_field=models.CharField(max_length=141),
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
