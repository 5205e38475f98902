"""On PostgreSQL, an index of each plate's characters at their places, alone and in pairs
(``ciss.plates.plate_positions``), so that a partial plate whose known characters are
never three in a row (``T?84?38``, ``Q??0?5?``) is answered from the index: the trigram
index of migration 0002 can use only the first and last character of such a pattern and
leaves tens of thousands of rows to check."""

from typing import Any

from django.db import migrations

INDEX = "vehicle_plate_positions"
# What ciss.plates.plate_positions computes: "s" entries on the key, "e" entries on it
# reversed; each character alone, then with the character one and two places further.
FUNCTION = """
CREATE OR REPLACE FUNCTION ciss_plate_positions(key text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(entry), '{}') FROM (
    SELECT side || i || ':' || substr(k, i, 1) AS entry
      FROM (VALUES ('s', key), ('e', reverse(key))) AS sides(side, k),
           generate_series(1, length(key)) AS i
    UNION ALL
    SELECT side || i || ':' || substr(k, i, 1) || g || substr(k, i + g, 1)
      FROM (VALUES ('s', key), ('e', reverse(key))) AS sides(side, k),
           generate_series(1, length(key) - 1) AS i,
           generate_series(1, 2) AS g
     WHERE i + g <= length(key)
  ) AS entries
$$
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON ciss_vehicle "
        "USING gin (ciss_plate_positions(plate_key::text))"
    )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute("DROP FUNCTION IF EXISTS ciss_plate_positions(text)")


class Migration(migrations.Migration):
    dependencies = [("ciss", "0007_batch_search")]

    operations = [migrations.RunPython(create, drop)]
