"""The two compilations of each exchange schema give the same verdict.

``validate_exchange`` trusts ``jsonschema_rs`` to say a payload is valid and asks
``jsonschema`` for the errors of one it refuses. Were the first to accept what the second
refuses, an exchange the schema forbids would be stored; were it to refuse what the second
accepts, a good exchange would be answered 400 with no error to show. So every property
of every schema, at every depth, is given each of a set of awkward values (and is left
out), and both validators must agree on each payload.
"""

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from ciss.exchanges.schemas import FAST_VALIDATORS, VALIDATORS, schema_for, validate_exchange
from ciss.models import ExchangeType
from tests.ciss.exchange_factories import notice, schedule

AWKWARD: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    2.5,
    -1,
    999,
    1000,
    100_001,
    1899,
    2026,
    2101,
    "",
    " ",
    "A",
    "C",
    "F",
    "U",
    "felony",
    "infraction",
    "pretrial",
    "GA14",
    "CT0006400",
    "CT0006400\n",
    "ct0006400",
    "2026-11-21",
    "2026-02-30",
    "2026-11-21\n",
    "21/11/2026",
    "2026-11-20T14:03:00-05:00",
    "2026-11-20T14:03:00Z",
    "2026-11-20T14:03:00",
    "2026-11-20 14:03:00+00:00",
    "2026-11-20T25:03:00-05:00",
    "x" * 121,
    "x" * 20_001,
    [],
    [{}],
    ["A"],
    {},
    {"code": "GA14"},
]


def valid_payload(kind: str) -> dict[str, Any]:
    if kind == ExchangeType.COURT_SCHEDULE_NOTIFICATION:
        return schedule()
    payload = notice(type=kind)
    if kind == ExchangeType.INFRACTION:
        payload["charges"] = [
            {"statute": "14-219", "description": "Speeding", "severity": "infraction"}
        ]
    return payload


def properties(schema: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every property the schema describes, objects inside lists included (as
    the list's first item)."""
    for name, child in schema.get("properties", {}).items():
        yield (*path, name)
        yield from _inside(child, (*path, name))


def _inside(schema: dict[str, Any], path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if "properties" in schema:
        yield from properties(schema, path)
    if isinstance(schema.get("items"), dict):
        yield from _inside(schema["items"], (*path, 0))


def with_value(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any] | None:
    """``payload`` with ``value`` at ``path`` (None: left out), or None when the path's
    parent is not there to hold it."""
    changed = copy.deepcopy(payload)
    parent: Any = changed
    for step in path[:-1]:
        inner = parent.get(step) if isinstance(parent, dict) else _item(parent, step)
        if not isinstance(inner, dict | list):
            return None
        parent = inner
    last = path[-1]
    if isinstance(parent, list):
        if value is _LEFT_OUT:
            return None
        parent[last] = value
    elif value is _LEFT_OUT:
        parent.pop(last, None)
    else:
        parent[last] = value
    return changed


def _item(items: Any, index: Any) -> Any:
    return items[index] if isinstance(items, list) and index < len(items) else None


_LEFT_OUT = object()


def payloads(kind: str) -> Iterator[dict[str, Any]]:
    base = valid_payload(kind)
    yield base
    for path in properties(schema_for(kind)):
        for value in [*AWKWARD, _LEFT_OUT]:
            changed = with_value(base, path, value)
            if changed is not None:
                yield changed
    yield {**base, "unknown": "x"}
    yield {**base, "subject": {**base.get("subject", {}), "nickname": "x"}}


@pytest.mark.parametrize("kind", ExchangeType.values)
def test_both_validators_agree_on_every_property_and_awkward_value(kind: str) -> None:
    fast, thorough = FAST_VALIDATORS[kind], VALIDATORS[kind]
    checked = refused = 0
    for payload in payloads(kind):
        errors = list(thorough.iter_errors(payload))
        assert fast.is_valid(payload) == (not errors), (payload, [e.message for e in errors])
        checked += 1
        refused += bool(errors)
    # The walk reached the schema's depths: most awkward values are refused somewhere.
    assert checked > 500
    assert checked > refused > checked // 2


def test_a_valid_notice_passes_and_a_refused_one_is_explained_field_by_field() -> None:
    assert validate_exchange(valid_payload(ExchangeType.EARLY_ARREST_NOTICE)) == {}
    payload = notice(occurred_at="2026-11-20T14:03:00")
    payload["subject"]["dob"] = "1985-02-30"
    payload["charges"][0]["counts"] = True
    assert validate_exchange(payload) == {
        "charges.0.counts": ["Must be a whole number."],
        "occurred_at": [
            "Must be a date and time with its UTC offset, e.g. 2026-11-20T14:03:00-05:00."
        ],
        "subject.dob": ["Must be a real date as YYYY-MM-DD."],
    }
