"""On PostgreSQL, a trigram index over the folded plates, so that partial plates (``ABC*``,
``*1234``, ``A?C12?4``, run as regular expressions) are answered by the index."""

from typing import Any

from django.db import migrations

INDEX = "vehicle_plate_trigram"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON ciss_vehicle USING gin (plate_key gin_trgm_ops)"
    )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("ciss", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
