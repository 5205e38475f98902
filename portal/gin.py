"""GIN indexes that searches read while feeds write to them.

A GIN index collects new entries in a pending list that every search scans in full until
vacuum or an overflowing insert moves them into the index. At PostgreSQL's default limit
(4 MB, some 500 pages) a partial plate that reads 5 rows from the index took 4 ms to scan
the list, and the list's size made the planner prefer another index that checked 30,000
rows (90 ms). At ``PENDING_LIST_KB`` the list stays under 32 pages: the same searches
stay under 9 ms while vehicles are loaded, and loading costs about 0.1 ms more per row
(bench/README.md, search speed).
"""

from typing import Any

from django.db import migrations

PENDING_LIST_KB = 256


def small_pending_lists(*indexes: str) -> migrations.RunPython:
    """A migration operation giving ``indexes`` (GIN, PostgreSQL only) a small pending
    list; reversed, they get the server's default again."""

    def apply(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for index in indexes:
                schema_editor.execute(
                    f"ALTER INDEX IF EXISTS {schema_editor.quote_name(index)} "
                    f"SET (gin_pending_list_limit = {PENDING_LIST_KB})"
                )

    def revert(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for index in indexes:
                schema_editor.execute(
                    f"ALTER INDEX IF EXISTS {schema_editor.quote_name(index)} "
                    "RESET (gin_pending_list_limit)"
                )

    return migrations.RunPython(apply, revert)
