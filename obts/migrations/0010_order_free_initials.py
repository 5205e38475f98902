"""Date-and-initials keys (``DI``) with their two initials in alphabetical order instead
of given name first (``obts.matching.keys``): one key then serves a search in either name
order. Only name rows with a date of birth whose given name's initial sorts after the
surname's change; each has its one ``DI`` key replaced. Reversible."""

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db import migrations

from obts.matching.keys import key_hash
from obts.matching.normalize import normalize_given, normalize_surname

CHUNK = 5000


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def _key(ymd: str, initials: str) -> int:
    return key_hash(f"DI:{ymd}:{initials}")


def _rekey(apps: Any, schema_editor: Any, *, to_alphabetical: bool) -> None:
    name_model = apps.get_model("obts", "PersonName")
    connection = schema_editor.connection
    rows = (
        name_model.objects.filter(dob__isnull=False)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "dob")
        .iterator(chunk_size=CHUNK)
    )
    for chunk in _chunks(rows):
        replaced: list[tuple[int, int, int]] = []  # (name id, old key, new key)
        for pk, first, last, dob in chunk:
            given = normalize_given(first).key[:1]
            surname = normalize_surname(last).key[:1]
            if not given or not surname or given <= surname:
                continue  # no key, or the same key either way
            ymd = f"{dob.year:04d}{dob.month:02d}{dob.day:02d}"
            name_order, alphabetical = _key(ymd, given + surname), _key(ymd, surname + given)
            old, new = (name_order, alphabetical) if to_alphabetical else (alphabetical, name_order)
            replaced.append((pk, old, new))
        if replaced:
            _replace(connection, replaced)


def _replace(connection: Any, replaced: list[tuple[int, int, int]]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [pk for pk, _, _ in replaced]
            cursor.execute(
                "DELETE FROM obts_namekey k USING unnest(%s::bigint[], %s::bigint[]) "
                "AS r(name_id, key) WHERE k.name_id = r.name_id AND k.key = r.key",
                [names, [old for _, old, _ in replaced]],
            )
            cursor.execute(
                "INSERT INTO obts_namekey (name_id, key) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                [names, [new for _, _, new in replaced]],
            )
            return
        cursor.executemany(
            "DELETE FROM obts_namekey WHERE name_id = %s AND key = %s",
            [(pk, old) for pk, old, _ in replaced],
        )
        cursor.executemany(
            "INSERT INTO obts_namekey (name_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [(pk, new) for pk, _, new in replaced],
        )


def forward(apps: Any, schema_editor: Any) -> None:
    _rekey(apps, schema_editor, to_alphabetical=True)


def backward(apps: Any, schema_editor: Any) -> None:
    _rekey(apps, schema_editor, to_alphabetical=False)


class Migration(migrations.Migration):
    dependencies = [("obts", "0009_name_keys_without_constraint")]

    operations = [migrations.RunPython(forward, backward)]
