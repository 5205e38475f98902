"""Synthetic registered vehicles for demos and benchmarks. Nothing here is real.

Owners are the persons already in the master name index (``generate_persons`` first):
about one vehicle per person, drawn at random, so some people own none and a few own
several; a small share belongs to companies and towns, with no person. Plates follow the
shapes the states issue: Connecticut's ``AB12345`` and older ``123ABC``, New York's
``ABC1234``, Massachusetts' ``1ABC23`` and so on, plus vanity plates. Serial plates never
use I, O or Q (issuers avoid them); vanity plates may, so both directions of the O/0
confusion occur. Each ``(state, plate_key)`` is distinct, as a state's registry is:
plates are drawn again on a collision, against the vehicles already stored too.

Rows carry a VIN with a valid check digit, year, make, model, style and colour,
registration status and expiry (some expired, suspended or revoked, a few stale "valid"
rows whose expiry has passed), and a few stolen flags. On PostgreSQL they are written
with ``COPY`` (a million in a few minutes); elsewhere with ``bulk_create``.
"""

import random
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate

from django.db import connection, transaction

from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import plate_key
from obts.models import PersonName
from obts.synthetic_load import copy_rows, copy_text

SOURCE_ID_PREFIX = "SYNV-"
BATCH = 50_000
# Serial letters: issuers leave out I, O and Q, which read as 1 and 0.
SERIAL_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IOQ")
DIGITS = string.digits
COMPANY_SHARE = 0.03

# (state, share, plate shapes); a shape is a string of L (serial letter), D (digit) or
# V (vanity), chosen with its weight.
STATES: list[tuple[str, float, list[tuple[str, float]]]] = [
    ("CT", 0.85, [("LLDDDDD", 0.64), ("DDDLLL", 0.25), ("V", 0.07), ("LDDDDD", 0.04)]),
    ("NY", 0.05, [("LLLDDDD", 0.95), ("V", 0.05)]),
    ("MA", 0.04, [("DLLLDD", 0.9), ("DLLDDD", 0.05), ("V", 0.05)]),
    ("RI", 0.03, [("DDDDDD", 0.5), ("LLDDD", 0.45), ("V", 0.05)]),
    ("NJ", 0.02, [("LDDLLL", 0.95), ("V", 0.05)]),
    ("PA", 0.005, [("LLLDDDD", 1.0)]),
    ("VT", 0.0025, [("LLLDDD", 1.0)]),
    ("NH", 0.0025, [("DDDDDDD", 1.0)]),
]
VANITY_WORDS = [
    "GOPATS", "UCONN", "HUSKY", "YANKS", "REDSOX", "MYJEEP", "NANA", "PAPA", "MOMSCAR",
    "BEACH", "SAILOR", "SKIBUM", "GOLFER", "NURSE", "DOCTOR", "LAWYER", "TEACH", "COFFEE",
    "TACO", "PIZZA", "HOCKEY", "SOCCER", "MUSTNG", "VETTE", "TESLA", "ELEKTRK", "ROADIE",
    "LUCKY", "BLESSD", "DREAMR", "OCEAN", "SUNNY", "SNOWDAY", "MAPLE", "OAKTREE", "ROSIE",
    "BOSTON", "HTFD", "NEWHVN", "MYSTIC", "KAYAK", "FISHON", "HIKER", "BIKER", "GRANNY",
]  # fmt: skip
SYLLABLE_ONSETS = "BCDFGHJKLMNPRSTVWZ"
SYLLABLE_VOWELS = "AEIOUY"

# (make, model, style, world manufacturer identifiers, weight)
MODELS: list[tuple[str, str, str, tuple[str, ...], float]] = [
    ("Toyota", "Camry", "sedan", ("4T1", "JTN"), 5),
    ("Toyota", "RAV4", "SUV", ("2T3", "JTM"), 6),
    ("Toyota", "Corolla", "sedan", ("2T1", "5YF"), 4),
    ("Toyota", "Tacoma", "pickup", ("3TM", "5TF"), 2),
    ("Honda", "Civic", "sedan", ("2HG", "19X"), 5),
    ("Honda", "Accord", "sedan", ("1HG",), 4),
    ("Honda", "CR-V", "SUV", ("5J6", "2HK"), 6),
    ("Honda", "Odyssey", "minivan", ("5FN",), 2),
    ("Ford", "F-150", "pickup", ("1FT",), 5),
    ("Ford", "Escape", "SUV", ("1FM",), 4),
    ("Ford", "Explorer", "SUV", ("1FM",), 3),
    ("Chevrolet", "Silverado", "pickup", ("1GC", "3GC"), 4),
    ("Chevrolet", "Equinox", "SUV", ("2GN", "3GN"), 4),
    ("Chevrolet", "Malibu", "sedan", ("1G1",), 2),
    ("Nissan", "Rogue", "SUV", ("5N1", "JN8"), 5),
    ("Nissan", "Altima", "sedan", ("1N4",), 4),
    ("Jeep", "Grand Cherokee", "SUV", ("1C4",), 4),
    ("Jeep", "Wrangler", "SUV", ("1C4",), 2),
    ("Subaru", "Outback", "wagon", ("4S4",), 4),
    ("Subaru", "Forester", "SUV", ("JF2",), 3),
    ("Hyundai", "Elantra", "sedan", ("5NP", "KMH"), 3),
    ("Hyundai", "Tucson", "SUV", ("KM8",), 3),
    ("Kia", "Sorento", "SUV", ("5XY",), 2),
    ("Mazda", "CX-5", "SUV", ("JM3",), 2),
    ("Volkswagen", "Jetta", "sedan", ("3VW",), 2),
    ("BMW", "X3", "SUV", ("5UX", "WBX"), 1.5),
    ("Tesla", "Model 3", "sedan", ("5YJ",), 1.5),
    ("Ram", "1500", "pickup", ("1C6", "3C6"), 3),
    ("Dodge", "Grand Caravan", "minivan", ("2C4",), 1.5),
    ("Harley-Davidson", "Street Glide", "motorcycle", ("1HD",), 1),
]
COLORS = [
    ("white", 24), ("black", 22), ("gray", 18), ("silver", 12), ("blue", 9), ("red", 9),
    ("brown", 2), ("green", 2), ("beige", 1), ("orange", 0.5), ("gold", 0.5),
]  # fmt: skip
COMPANIES = [
    "ENTERPRISE RAC COMPANY OF NEW ENGLAND",
    "AVIS BUDGET CAR RENTAL LLC",
    "TOWN OF WEST HARTFORD",
    "CITY OF NEW HAVEN",
    "EVERSOURCE ENERGY",
    "UNIVERSITY OF CONNECTICUT",
    "FRONTIER COMMUNICATIONS",
    "PRATT & WHITNEY",
    "HERTZ VEHICLES LLC",
    "CT TRANSIT",
]
# Registration status shares; the rest are valid.
STATUSES = [
    (RegistrationStatus.EXPIRED, 0.07),
    (RegistrationStatus.SUSPENDED, 0.035),
    (RegistrationStatus.REVOKED, 0.008),
    (RegistrationStatus.CANCELLED, 0.007),
]
STALE_VALID_SHARE = 0.02  # "valid" as last sent, but the expiry has passed
STOLEN_SHARE = 0.005

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Model-year codes (VIN position 10): 2001-2009 are digits, 2010 on letters.
_YEAR_CODES = {2000 + i: str(i) for i in range(1, 10)} | {
    2010 + i: code for i, code in enumerate("ABCDEFGHJKLMNPRSTVWXY")
}

COLUMNS = [
    "public_id",
    "source_system",
    "source_id",
    "as_of",
    "received_at",
    "person_id",
    "owner_name",
    "plate",
    "plate_key",
    "plate_state",
    "plate_type",
    "vin",
    "year",
    "make",
    "model",
    "style",
    "color",
    "registration_status",
    "registration_expires",
    "stolen",
]


def source_system(state: str) -> str:
    """The registry a synthetic vehicle comes from: its state's motor vehicle department."""
    return f"DMV-{state}"


@dataclass(frozen=True)
class Owner:
    person_id: int | None
    name: str


class VehicleGenerator:
    """Vehicles from one seeded ``random.Random``: the same seed, start and owners give
    the same vehicles. ``taken`` holds the ``(state, plate_key)`` pairs already in use."""

    def __init__(self, seed: int, today: date, taken: set[tuple[str, str]] | None = None):
        self.rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        self.today = today
        self.taken = taken if taken is not None else set()
        # Cumulative weights, computed once: ``choices`` would redo them on every draw.
        self._states = [s[0] for s in STATES]
        self._state_weights = list(accumulate(s[1] for s in STATES))
        self._shapes = {
            s[0]: ([x[0] for x in s[2]], list(accumulate(x[1] for x in s[2]))) for s in STATES
        }
        self._model_weights = list(accumulate(m[4] for m in MODELS))
        self._colors = [c[0] for c in COLORS]
        self._color_weights = list(accumulate(c[1] for c in COLORS))

    def _vanity(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            word = rng.choice(VANITY_WORDS)
            if len(word) < 7 and rng.random() < 0.6:
                word += str(rng.randint(1, 9))
            return word
        syllables = "".join(
            rng.choice(SYLLABLE_ONSETS) + rng.choice(SYLLABLE_VOWELS)
            for _ in range(rng.randint(2, 3))
        )
        return syllables[: rng.randint(4, 7)]

    def _serial(self, shape: str) -> str:
        rng = self.rng
        return "".join(
            rng.choice(SERIAL_LETTERS) if c == "L" else rng.choice(DIGITS) for c in shape
        )

    def plate(self) -> tuple[str, str, str, bool]:
        """(state, plate, plate_key, vanity), a pair not in ``taken`` (and now in it)."""
        rng = self.rng
        state = rng.choices(self._states, cum_weights=self._state_weights)[0]
        shapes, weights = self._shapes[state]
        for _ in range(100):
            shape = rng.choices(shapes, cum_weights=weights)[0]
            plate = self._vanity() if shape == "V" else self._serial(shape)
            key = plate_key(plate)
            if (state, key) not in self.taken:
                self.taken.add((state, key))
                return state, plate, key, shape == "V"
        raise RuntimeError(f"no free plate found in {state} after 100 draws")

    def vin(self, wmi: str, year: int) -> str:
        rng = self.rng
        chars = [
            *wmi,
            *(rng.choice(_VIN_CHARS) for _ in range(5)),
            "0",
            _YEAR_CODES.get(year, "A"),
            rng.choice(_VIN_CHARS),
            *(rng.choice(DIGITS) for _ in range(6)),
        ]
        total = sum(_VIN_VALUES[c] * w for c, w in zip(chars, _VIN_WEIGHTS, strict=True))
        chars[8] = "X" if total % 11 == 10 else str(total % 11)
        return "".join(chars)

    def _registration(self) -> tuple[str, date]:
        rng, today = self.rng, self.today
        draw = rng.random()
        for status, share in STATUSES:
            if draw < share:
                if status == RegistrationStatus.EXPIRED:
                    return status, today - timedelta(days=rng.randint(1, 900))
                return status, today + timedelta(days=rng.randint(-365, 700))
            draw -= share
        if draw < STALE_VALID_SHARE:
            return RegistrationStatus.VALID, today - timedelta(days=rng.randint(1, 120))
        return RegistrationStatus.VALID, today + timedelta(days=rng.randint(1, 730))

    def vehicle(self, number: int, owner: Owner) -> dict[str, object]:
        """One vehicle's column values (see ``COLUMNS``), numbered ``number``."""
        rng = self.rng
        state, plate, key, vanity = self.plate()
        make, model, style, wmis, _ = rng.choices(MODELS, cum_weights=self._model_weights)[0]
        year = min(self.today.year + 1, max(2001, int(rng.triangular(2003, 2026, 2019))))
        status, expires = self._registration()
        if vanity:
            plate_type = "vanity"
        elif style == "motorcycle":
            plate_type = "motorcycle"
        elif owner.person_id is None or (style == "pickup" and rng.random() < 0.3):
            plate_type = "commercial"
        else:
            plate_type = "passenger"
        as_of = datetime.combine(
            self.today - timedelta(days=rng.randint(0, 60)), time(12, 0), tzinfo=UTC
        )
        return {
            "public_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "source_system": source_system(state),
            "source_id": f"{SOURCE_ID_PREFIX}{number}",
            "as_of": as_of,
            "received_at": as_of,
            "person_id": owner.person_id,
            "owner_name": owner.name,
            "plate": plate,
            "plate_key": key,
            "plate_state": state,
            "plate_type": plate_type,
            "vin": self.vin(rng.choice(wmis), year),
            "year": year,
            "make": make,
            "model": model,
            "style": style,
            "color": rng.choices(self._colors, cum_weights=self._color_weights)[0],
            "registration_status": str(status),
            "registration_expires": expires,
            "stolen": rng.random() < STOLEN_SHARE,
        }


def owner_name(first: str, middle: str, last: str) -> str:
    """The owner as a registry records a person: ``LAST, FIRST M``."""
    given = " ".join(part for part in (first, middle[:1]) if part)
    return f"{last}, {given}".upper() if given else last.upper()


def owners(count: int, rng: random.Random) -> Iterator[Owner]:
    """``count`` owners: persons drawn at random (with repetition, so about one vehicle
    per person when ``count`` is the population's size) in id order, streamed from the
    database, then companies for ``COMPANY_SHARE`` of the vehicles and for any left over
    when the index has fewer persons than drawn."""
    names = PersonName.objects.filter(is_primary=True, person__merged_into__isnull=True)
    population = names.count()
    companies = round(count * COMPANY_SHARE) if population else count
    personal = count - companies
    picks = sorted(rng.randrange(population) for _ in range(personal)) if population else []
    rows = names.order_by("person_id", "pk").values_list(
        "person_id", "first_name", "middle_name", "last_name"
    )
    given = 0
    position = -1
    last_person = None
    for person_id, first, middle, last in rows.iterator(chunk_size=20_000):
        if given >= len(picks):
            break
        if person_id == last_person:  # a second primary name: one owner is enough
            continue
        last_person = person_id
        position += 1
        while given < len(picks) and picks[given] == position:
            yield Owner(person_id, owner_name(first, middle, last))
            given += 1
    for _ in range(count - given):
        yield Owner(None, rng.choice(COMPANIES))


def stored_plates() -> set[tuple[str, str]]:
    """The ``(state, plate_key)`` pairs already registered."""
    rows = Vehicle.objects.values_list("plate_state", "plate_key")
    return set(rows.iterator(chunk_size=50_000))


def synthetic_count() -> int:
    """How many synthetic vehicles (source id ``SYNV-n``) are stored."""
    return Vehicle.objects.filter(source_id__startswith=SOURCE_ID_PREFIX).count()


def generate(count: int, *, seed: int = 1, start: int = 0, today: date) -> Iterator[int]:
    """Write ``count`` vehicles numbered from ``start`` in batches of ``BATCH``, each in
    its own transaction; yields the running total after each batch."""
    generator = VehicleGenerator(seed * 1_000_003 + start, today, stored_plates())
    write = _write_copy if connection.vendor == "postgresql" else _write_orm
    batch: list[dict[str, object]] = []
    written = 0
    for number, owner in enumerate(owners(count, generator.rng), start=start):
        batch.append(generator.vehicle(number, owner))
        if len(batch) >= BATCH:
            written += write(batch)
            batch = []
            yield written
    if batch:
        written += write(batch)
        yield written


def _write_copy(rows: list[dict[str, object]]) -> int:
    lines = ("\t".join(copy_text(row[column]) for column in COLUMNS) + "\n" for row in rows)
    with transaction.atomic(), connection.cursor() as cursor:
        copy_rows(cursor, Vehicle._meta.db_table, COLUMNS, lines)
    return len(rows)


def _write_orm(rows: list[dict[str, object]]) -> int:
    Vehicle.objects.bulk_create([Vehicle(**row) for row in rows], batch_size=1000)
    return len(rows)
