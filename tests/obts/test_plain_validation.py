"""The plain path of batch validation (``obts.services.plain_validation``) must give what
the serializer gives for every record it accepts, and decline every record the
serializer refuses, so that errors are always the serializer's own words."""

import copy
import random
from collections import Counter
from typing import Any

import pytest
from django.core.validators import MaxLengthValidator
from rest_framework import serializers

from obts.services.feeds import feed_kind
from obts.services.fields import OptionalTextField, TextField
from obts.services.intake import record_validator
from obts.services.person_schemas import PersonInputSerializer
from obts.services.plain_validation import PlainValidator, plain_validator
from obts.synthetic import Generator

# Values a sending system gets wrong, or right in an unusual way.
ODD_TEXT: list[Any] = [
    None,
    "",
    "   ",
    "  padded  ",
    7,
    7.5,
    True,
    [],
    {},
    "x" * 200,
    "nul\x00inside",
    "lone \ud800 surrogate",
    "Zoë Ñúñez-O'Brien",
    "\tMcDonald\n",
]
ODD_DATES: list[Any] = [
    None,
    "",
    "2020-02-30",
    "20200101",
    "2020-1-5",
    "2099-01-01",
    "1899-12-31",
    "1900-01-01",
    "2026-01-02T10:00:00Z",
    19800101,
    "1980-05-17",
]
ODD_DATETIMES: list[Any] = [
    None,
    "",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00Z",
    "2026-01-01T05:30:00+05:30",
    "2026-01-01",
    "2099-01-01T00:00:00Z",
    "yesterday",
    1767225600,
]
ODD_INTEGERS: list[Any] = [None, "", "72", 72.0, 11, 12, 108, 109, True, "seventy"]
ODD_CHOICES: list[Any] = [None, "", "M", "m", "F", "X", "male", 1]


def _records(count: int, seed: int) -> list[dict[str, Any]]:
    generator = Generator(seed=seed)
    records = []
    for n in range(count):
        person = generator.person(n)
        records.append(
            {
                "source_system": "TEST-MNI",
                "source_id": f"P-{n}",
                "as_of": "2026-01-01T12:00:00+00:00",
                "first_name": person.primary.first,
                "middle_name": person.primary.middle,
                "last_name": person.primary.last,
                "dob": str(person.primary.dob) if person.primary.dob else None,
                "sex": person.sex,
                "sid": f"ST{n:08d}",
                "height_in": 70,
                "aliases": [
                    {
                        "first_name": alias.first,
                        "last_name": alias.last,
                        "dob": str(alias.dob) if alias.dob else None,
                    }
                    for alias in person.aliases
                ],
                "addresses": [
                    {
                        "line1": f"{n} Main St",
                        "city": "Hartford",
                        "state": "ct",
                        "from_date": "2020-01-01",
                    }
                ],
            }
        )
    return records


def _first(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    items = record.get(name)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return None


def _mutated(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    record = copy.deepcopy(record)
    for _ in range(rng.randint(1, 3)):
        where = rng.choice(["top", "top", "alias", "address", "lists"])
        if where == "top":
            field = rng.choice(
                [
                    "source_system",
                    "source_id",
                    "last_name",
                    "first_name",
                    "race",
                    "dl_state",
                    "caution",
                    "dob",
                    "as_of",
                    "height_in",
                    "sex",
                ]
            )
            odd = {
                "dob": ODD_DATES,
                "as_of": ODD_DATETIMES,
                "height_in": ODD_INTEGERS,
                "sex": ODD_CHOICES,
            }.get(field, ODD_TEXT)
            if rng.random() < 0.15:
                record.pop(field, None)
            else:
                record[field] = rng.choice(odd)
        elif where == "alias" and (alias := _first(record, "aliases")) is not None:
            field = rng.choice(["first_name", "last_name", "dob", "suffix"])
            if rng.random() < 0.2:
                alias.pop(field, None)
            else:
                alias[field] = rng.choice(ODD_DATES if field == "dob" else ODD_TEXT)
        elif where == "address" and (address := _first(record, "addresses")) is not None:
            field = rng.choice(["line1", "state", "postal_code", "from_date", "to_date"])
            odd = ODD_DATES if field.endswith("_date") else ODD_TEXT
            address[field] = rng.choice(odd)
        elif where == "lists":
            name = rng.choice(["aliases", "addresses"])
            first = _first(record, name)
            record[name] = rng.choice(
                [None, [], {}, "text", [1], [{}], [first] * 51 if first else [], [first, first]]
            )
    return record


def test_realistic_records_take_the_plain_path_and_give_what_the_serializer_gives() -> None:
    plain = plain_validator(PersonInputSerializer)
    assert plain is not None
    serializer = record_validator(PersonInputSerializer)
    for record in _records(300, seed=11):
        assert _compare(plain, serializer, record) == "taken", record


def _compare(plain: PlainValidator, serializer: Any, record: dict[str, Any]) -> str:
    """Both paths on ``record``: "refused" by the serializer (and declined by the plain
    path), "taken" by both alike, or "declined" by the plain path alone."""
    try:
        expected = serializer.run_validation(copy.deepcopy(record))
    except serializers.ValidationError:
        assert plain(copy.deepcopy(record)) is None, record
        return "refused"
    validated = plain(copy.deepcopy(record))
    if validated is None:
        return "declined"
    assert validated == expected, record
    assert {k: type(v) for k, v in validated.items()} == {
        k: type(v) for k, v in expected.items()
    }, record
    return "taken"


@pytest.mark.parametrize("seed", range(4))
def test_odd_records_are_either_validated_alike_or_left_to_the_serializer(seed: int) -> None:
    plain = plain_validator(PersonInputSerializer)
    assert plain is not None
    serializer = record_validator(PersonInputSerializer)
    rng = random.Random(seed)
    outcomes = Counter(
        _compare(plain, serializer, _mutated(record, rng)) for record in _records(400, seed=seed)
    )
    # Both kinds were tried: the comparison was not vacuous either way.
    assert outcomes["taken"] > 50
    assert outcomes["refused"] > 50


def test_what_is_not_a_json_object_is_left_to_the_serializer() -> None:
    plain = plain_validator(PersonInputSerializer)
    assert plain is not None
    odd: list[Any] = [None, [], "text", 3]
    for data in odd:
        assert plain(data) is None


def _warrant(n: int) -> dict[str, Any]:
    return {
        "source_system": "JUD-PRAWN",
        "source_id": f"W-{n}",
        "as_of": "2026-01-01T12:00:00+00:00",
        "person": {"sid": f"ST{n:08d}"},
        "kind": "paperless re-arrest",
        "warrant_number": f"PR-{n}",
        "issued_on": "2026-01-02",
        "court": "GA14",
        "offense": "Failure to appear",
        "status": "active",
    }


def _case(n: int) -> dict[str, Any]:
    return {
        "source_system": "JUD-CCMS",
        "source_id": f"C-{n}",
        "as_of": "2026-01-01T12:00:00+00:00",
        "person": {"sid": f"ST{n:08d}"},
        "docket_number": f"H14H-CR26-{n:07d}-S",
        "court_code": "GA14",
        "arresting_agency_ori": "CT0006400",
        "arrest_date": "2026-01-02",
        "arraignment_date": "2026-01-05",
        "status": "pending",
        "charges": [
            {"statute": "53a-125b", "description": "Larceny 6th", "charge_class": "misdemeanor_c"},
            {"statute": "53a-181", "description": "Breach", "charge_class": "misdemeanor_b"},
        ],
    }


FEED_ODDITIES: dict[str, list[Any]] = {
    "source_id": ODD_TEXT,
    "as_of": ODD_DATETIMES,
    "person": [None, {}, {"sid": ""}, {"sid": " st1 "}, {"id": "nope"}, {"sid": 1, "fbi": 2}],
    "kind": ODD_TEXT,
    "warrant_number": ODD_TEXT,
    "issued_on": ODD_DATES,
    "court": ODD_TEXT,
    "status": [*ODD_CHOICES, "ACTIVE", "served", "pending", "disposed"],
    "docket_number": ODD_TEXT,
    "arrest_date": ODD_DATES,
    "arraignment_date": [*ODD_DATES, "2025-12-31"],
    "charges": [None, [], {}, [1], [{}], [{"statute": "53a-125b"}], [{"charge_class": "felony_z"}]],
}


@pytest.mark.parametrize(("kind", "build"), [("warrants", _warrant), ("cases", _case)])
def test_feed_records_are_either_validated_alike_or_left_to_the_serializer(
    kind: str, build: Any
) -> None:
    feed = feed_kind(kind)
    assert feed is not None
    plain = plain_validator(feed.serializer_class)
    assert plain is not None
    serializer = record_validator(feed.serializer_class)
    rng = random.Random(kind)
    outcomes: Counter[str] = Counter()
    for n in range(600):
        record = build(n)
        for _ in range(rng.randint(0, 2)):
            field = rng.choice([name for name in FEED_ODDITIES if name in record])
            if rng.random() < 0.15:
                record.pop(field)
            else:
                record[field] = copy.deepcopy(rng.choice(FEED_ODDITIES[field]))
        outcomes[_compare(plain, serializer, record)] += 1
    assert outcomes["taken"] > 100
    assert outcomes["refused"] > 50


class _WithFieldMethod(serializers.Serializer[Any]):
    last_name = TextField(max_length=80)

    def validate_last_name(self, value: str) -> str:
        return value.upper()


class _Plain(serializers.Serializer[Any]):
    last_name = TextField(max_length=80)
    note = OptionalTextField(max_length=10)


def test_serializers_it_cannot_follow_get_no_plain_path() -> None:
    assert PlainValidator.for_serializer(_WithFieldMethod()) is None
    assert PlainValidator.for_serializer(_Plain(validators=[lambda attrs: None])) is None
    plain = PlainValidator.for_serializer(_Plain())
    assert plain is not None
    assert plain({"last_name": " Smith ", "note": None}) == {"last_name": "Smith", "note": ""}
    assert plain({"last_name": "Smith", "note": "x" * 11}) is None


class _StricterThanItsLength(serializers.Serializer[Any]):
    code = TextField(max_length=80, validators=[MaxLengthValidator(5)])


def test_a_length_check_other_than_the_fields_own_is_left_to_the_field() -> None:
    plain = PlainValidator.for_serializer(_StricterThanItsLength())
    assert plain is not None
    assert plain({"code": "ABCDE"}) == {"code": "ABCDE"}
    assert plain({"code": "ABCDEF"}) is None
