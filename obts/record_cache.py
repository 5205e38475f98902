"""Rendered person records kept in the cache, keyed by the rows they were rendered from.

A heavy record (twenty cases, sixty charges, a long timeline) costs tens of milliseconds
to load and render, and the same wanted person is often looked up by several officers
within minutes. The record page's body and the API's record are therefore cached under a
key that names exactly what they show:

- the **fingerprint** of the person's rows: on PostgreSQL, an MD5 over the id, ``xmin``
  (the transaction that wrote the row version) and ``ctid`` (where the version lives) of
  the person row and of every row of every record kind the record shows, charges
  included. Any insert, update,
  delete or merge of a row the record is built from changes it — whatever wrote it: a
  feed, a merge, the admin site, a bulk update or a hand-written SQL fix. It costs one
  indexed query. Other databases have no ``xmin``; there nothing is cached;
- the reader's **visibility** (criminal history, juvenile, sealed, registry), as two
  readers may see different records;
- **today's date**, as flags such as "recently released" depend on it;
- a digest of the **templates**, so a new release never serves HTML of the old one.

Nothing else goes into an entry, so a hit is the record as it would be rendered now. The
view is audited on every request, hit or miss, with the records shown (kept in the
entry). Entries expire after ``OBTS_RECORD_CACHE_SECONDS`` (default ten minutes; 0 turns
the cache off) so criminal-history data does not linger in the cache.
"""

import hashlib
import uuid
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache as default_cache
from django.db import connection

from obts.models import (
    Address,
    Case,
    Charge,
    CustodyPeriod,
    Infraction,
    Person,
    PersonIdentifier,
    PersonName,
    PersonSource,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    Warrant,
)
from obts.selectors import Visibility
from portal import pg

DEFAULT_SECONDS = 600
_PERSON_KINDS = [
    PersonName,
    PersonIdentifier,
    Address,
    PersonSource,
    Case,
    Sentence,
    CustodyPeriod,
    Supervision,
    ProtectiveOrder,
    Warrant,
    Registration,
    Infraction,
]


def cache_seconds() -> int:
    return int(getattr(settings, "OBTS_RECORD_CACHE_SECONDS", DEFAULT_SECONDS))


@cache
def _fingerprint_sql() -> str:
    """One query listing (kind, id, xmin, ctid) of the person row and of every row the
    record is built from, digested; ``$1`` is the person's id. Table names come from the
    models, never from input. Prepared once per session: planning its dozen branches
    costs more than running them.

    ``xmin`` changes with every transaction that writes a row, ``ctid`` with every new
    version of it, even within one transaction."""
    quote = connection.ops.quote_name
    person = quote(Person._meta.db_table)
    parts = [f"SELECT 'person', id, xmin || '/' || ctid FROM {person} WHERE id = $1"]  # noqa: S608
    for model in _PERSON_KINDS:
        table = quote(model._meta.db_table)
        parts.append(
            f"SELECT {table!r}, id, xmin || '/' || ctid FROM {table} WHERE person_id = $1"  # noqa: S608
        )
    charge, case = quote(Charge._meta.db_table), quote(Case._meta.db_table)
    parts.append(
        f"SELECT 'charge', ch.id, ch.xmin || '/' || ch.ctid FROM {charge} ch "  # noqa: S608
        f"JOIN {case} c ON c.id = ch.case_id WHERE c.person_id = $1"
    )
    rows = " UNION ALL ".join(parts)
    return (
        "SELECT md5(string_agg(kind || ':' || id || ':' || version, ',' "  # noqa: S608
        f"ORDER BY kind, id)) FROM ({rows}) AS versions(kind, id, version)"
    )


def fingerprint(person_pk: int) -> str | None:
    """What the person's record is built from, as a digest; None where it cannot be
    known (databases other than PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        pg.execute_prepared(
            cursor, "obts_record_fingerprint", ["bigint"], _fingerprint_sql(), [person_pk]
        )
        row = cursor.fetchone()
    return str(row[0]) if row and row[0] else None


def markup_files() -> list[Path]:
    """What a rendered page is made from: the app's templates and the tags that write
    its repeated rows. A deploy changing any of them changes every page's key."""
    app = Path(__file__).resolve().parent
    paths = sorted((app / "templates" / "obts").rglob("*.html"))
    return paths + sorted((app / "templatetags").glob("*.py"))


@cache
def _templates_digest() -> str:
    digest = hashlib.sha256()
    for path in markup_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def key(
    kind: str,
    person_pk: int,
    visibility: Visibility,
    today: date,
    *,
    requested: uuid.UUID | None = None,
) -> str | None:
    """The cache key of one rendering (``kind``: "page" or "api") of a person's record,
    or None when it must not be cached."""
    if cache_seconds() <= 0:
        return None
    digest = fingerprint(person_pk)
    if digest is None:
        return None
    seen = "".join(
        "1" if flag else "0"
        for flag in (
            visibility.criminal_history,
            visibility.juvenile,
            visibility.sealed,
            visibility.registry,
        )
    )
    parts = [kind, str(person_pk), digest, seen, today.isoformat(), _templates_digest()]
    if requested is not None:
        parts.append(str(requested))
    return "obts:record:" + ":".join(parts)


def get(cache_key: str | None) -> Any:
    return default_cache.get(cache_key) if cache_key else None


def put(cache_key: str | None, value: Any) -> None:
    if cache_key:
        default_cache.set(cache_key, value, timeout=cache_seconds())
