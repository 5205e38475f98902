"""PostgreSQL statements that run thousands of times a minute, made cheaper to send.

Two costs dominate a short statement with a long list of integers, such as the matcher's
look-up of a name's 100-350 key hashes:

- psycopg2 sends a Python list as ``ARRAY[1, 2, ...]``, an expression of one constant per
  element that the server parses and folds on every call. :func:`bigint_array` sends the
  one text literal ``'{1,2,...}'`` instead: the same array, which took a fifth off a
  key look-up and a third off inserting a batch's keys (bench/README.md, feed intake).
- The planner estimates the selectivity of each element of ``= ANY(array)`` on every
  call: about half a millisecond for 350 keys, as long as the look-up itself.
  :func:`execute_prepared` prepares the statement once per database session, so later
  calls reuse its plan. PostgreSQL still plans a prepared statement's first five runs
  with their values, so an array of tens of thousands of elements (a whole batch's
  keys) goes behind :func:`unseen_bigint_array` instead, prepared or not.

Prepared statements belong to a server session. Behind a pooler that hands a session's
transactions to other server sessions (PgBouncer in transaction mode), set
``DATABASE_PREPARED_STATEMENTS=false``: statements are then sent as they are.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings


def bigint_array(values: Iterable[int]) -> str:
    """``values`` as a PostgreSQL array literal, for a ``bigint[]`` parameter."""
    return "{" + ",".join(map(str, values)) + "}"


def unseen_bigint_array(placeholder: str = "%s") -> str:
    """SQL for the ``bigint[]`` parameter at ``placeholder`` behind a sub-select, for
    ``column = ANY(...)``: the planner cannot see the array, so it does not estimate each
    element (88 ms for 86,000 keys, against 17 ms to run the look-up) and plans the index
    scan a few elements get."""
    return f"(SELECT {placeholder}::bigint[])::bigint[]"


def execute_prepared(
    cursor: Any, name: str, types: Sequence[str], sql: str, params: Sequence[Any]
) -> None:
    """Run ``sql`` (with placeholders ``$1``, ``$2``... of ``types``; any may repeat) on
    Django's ``cursor`` as the prepared statement ``name`` of the cursor's
    database session, preparing it on first use; as a plain statement when prepared
    statements are turned off.

    ``name`` must be unique to ``sql`` across the project. A prepared statement outlives
    the transaction that prepared it, even one rolled back; a new connection (Django
    reconnects after an error or ``CONN_MAX_AGE``) prepares it again."""
    if not getattr(settings, "DATABASE_PREPARED_STATEMENTS", True):
        named = {f"p{number}": value for number, value in enumerate(params, start=1)}
        cursor.execute(_with_named_placeholders(sql, types), named)
        return
    database = cursor.db  # this thread's connection wrapper (Django's CursorWrapper)
    session = database.connection
    prepared: dict[str, Any] = database.__dict__.setdefault("_prepared_statements", {})
    if prepared.get(name) is not session:
        # Session set-up, like the time zone Django sets on connecting: sent on the raw
        # cursor, so it is not counted among the queries of the request that happens to
        # come first on a new connection.
        with database.wrap_database_errors:
            cursor.cursor.execute(f"PREPARE {name} ({', '.join(types)}) AS {sql}")
        prepared[name] = session
    placeholders = ", ".join(["%s"] * len(types))
    cursor.execute(f"EXECUTE {name} ({placeholders})", params)


def _with_named_placeholders(sql: str, types: Sequence[str]) -> str:
    """``sql`` with each ``$n`` as psycopg2's ``%(pn)s`` cast to its type, highest number
    first (``$10`` before ``$1``)."""
    text = sql.replace("%", "%%")
    for number in range(len(types), 0, -1):
        text = text.replace(f"${number}", f"%(p{number})s::{types[number - 1]}")
    return text
