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
