"""Licence plates and VINs in the forms that are stored and compared.

A plate is read off a car, a camera or a dispatcher's voice, so the same plate arrives as
``abc-1234``, ``ABC 1234`` or ``ABCI234``. Three forms:

- :func:`normalize_plate` — what is stored and shown: capitals and digits only (spaces,
  dashes and dots dropped). ``"abc-1234"`` → ``"ABC1234"``.
- :func:`plate_key` — what is compared: the normalised plate with the letters that are
  mistaken for digits folded onto them (O and Q → 0, I → 1). ``"ABCI234"`` and
  ``"ABC1234"`` share the key ``"ABC1234"``; ``"OKK"`` and ``"0KK"`` share ``"0KK"``.
  States do not issue plates that differ only by these characters, so the fold loses
  nothing an officer needs and finds the plate whichever way it was typed.
- :func:`normalize_vin` — a VIN in capitals without separators; :func:`vin_problem` says
  what is wrong with one (17 characters, no I, O or Q, and for North American vehicles
  the check digit in position 9).
"""

import re
from collections.abc import Callable

PLATE_MAX = 10
_SEPARATORS = re.compile(r"[\s\-.·]+")
_PLATE = re.compile(r"^[A-Z0-9]{1,10}$")
_FOLD = str.maketrans({"O": "0", "Q": "0", "I": "1"})

_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# World manufacturer identifiers of North America start with 1-5; their VINs carry a
# check digit in position 9.
_CHECKED_REGIONS = "12345"


def normalize_plate(text: str) -> str:
    """Capitals and digits only; raises ValueError for anything else or for a plate
    longer than ``PLATE_MAX``."""
    plate = _SEPARATORS.sub("", text.strip().upper())
    if not plate:
        raise ValueError("A plate needs at least one letter or digit.")
    if not _PLATE.match(plate):
        raise ValueError(
            f"A plate has only letters and digits, at most {PLATE_MAX} (spaces and dashes "
            "are ignored)."
        )
    return plate


def plate_key(text: str) -> str:
    """The compared form: normalised, with O and Q read as 0 and I as 1."""
    return normalize_plate(text).translate(_FOLD)


def normalize_vin(text: str) -> str:
    return _SEPARATORS.sub("", text.strip().upper())


def vin_problem(vin: str) -> str | None:
    """What is wrong with a normalised VIN, in words; None when nothing is."""
    if len(vin) != 17:
        return f"A VIN has 17 characters; this one has {len(vin)}."
    if not _VIN.match(vin):
        return "A VIN has only letters and digits, and never I, O or Q."
    if vin[0] in _CHECKED_REGIONS:
        total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
        check = "X" if total % 11 == 10 else str(total % 11)
        if vin[8] != check:
            return (
                f"The check digit (9th character) should be {check} for this VIN; a "
                "character is probably mistyped."
            )
    return None


def wildcard_regex(text: str, fold: Callable[[str], str]) -> str:
    """A partial plate or serial as an anchored regular expression over folded keys
    (``*`` any run, ``?`` one character, every other character folded by ``fold``), which
    pg_trgm's index answers on PostgreSQL."""
    parts = []
    for char in text:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(fold(char)))
    return "^" + "".join(parts) + "$"


# What a plate is indexed by on PostgreSQL (``ciss`` migration 0008): its characters at
# their places, alone and in pairs, counted from the start ("s") and, on the reversed
# plate, from the end ("e"). A pair is a character with the one next to it or the one
# after that: ``TX84`` holds ``s1:T`` (T at 1), ``s1:T1X`` (T at 1, X one further),
# ``s1:T28`` (T at 1, 8 two further), ``e1:4`` (4 last), ``e1:418`` (4 last, 8 one
# before it) and so on. Every plate a partial plate matches holds the entries its fixed
# start and end name, and a few of them narrow a million plates to a handful, where a
# trigram index needs three known characters in a row. ``plate_positions`` and the SQL
# function ``ciss_plate_positions`` must agree (a test compares them).
PAIR_GAPS = (1, 2)
# How many entries a partial plate asks the index for, the rarest first.
MOST_ENTRIES = 4


def _pair_places(text: str) -> list[tuple[int, int]]:
    """(place, gap) of each pair of known characters ``gap`` places apart."""
    return [
        (place, gap)
        for place in range(len(text))
        for gap in PAIR_GAPS
        if place + gap < len(text) and "?" not in (text[place], text[place + gap])
    ]


def _pairs(side: str, text: str) -> list[str]:
    return [
        f"{side}{place + 1}:{text[place]}{gap}{text[place + gap]}"
        for place, gap in _pair_places(text)
    ]


def _singles(side: str, text: str, skip: set[int] | None = None) -> list[str]:
    return [
        f"{side}{place + 1}:{char}"
        for place, char in enumerate(text)
        if char != "?" and place not in (skip or set())
    ]


def plate_positions(key: str) -> list[str]:
    """What a folded plate key is indexed by (what ``ciss_plate_positions`` computes)."""
    backwards = key[::-1]
    return _singles("s", key) + _pairs("s", key) + _singles("e", backwards) + _pairs("e", backwards)


def wildcard_positions(text: str, fold: Callable[[str], str]) -> list[str]:
    """The entries every plate matching the partial plate ``text`` holds: its pairs, and
    the known characters that are in no pair, from the start up to the first ``*`` and
    from the end back to the last one. Empty when neither end is fixed (``*12*``)."""
    folded = "".join(char if char in "*?" else fold(char) for char in text)
    head, star, _ = folded.partition("*")
    tail = folded.rpartition("*")[2] if star else folded
    entries: list[str] = []
    for side, part in (("s", head), ("e", tail[::-1])):
        paired = {place + step for place, gap in _pair_places(part) for step in (0, gap)}
        entries += _pairs(side, part) + _singles(side, part, skip=paired)
    # The index walks the list of every entry asked for; a few rare ones find the same
    # plates as all of them would (the pattern itself is checked on what they find).
    chosen = sorted(set(entries), key=lambda entry: (_share(entry), entry))[:MOST_ENTRIES]
    return sorted(chosen)


def _share(entry: str) -> float:
    """About how many plates hold ``entry``: a letter is rarer than a digit."""
    chars = entry.partition(":")[2]
    share = 1.0
    for char in (chars[0], chars[-1]) if len(chars) == 3 else (chars[0],):
        share /= 24 if char.isalpha() else 10
    return share
