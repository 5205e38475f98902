"""Street addresses in the form that is stored and compared.

The same place arrives as ``12 North Main Street, Apt. 3``, ``12 N MAIN ST #3`` and
``12 n. main st. apartment 3``. :func:`normalize_address` reads the parts the way the
postal service abbreviates them (street suffixes, directions, unit designators) and
gives back a :class:`NormalizedAddress` whose ``key`` is equal for all three. Person
addresses (``obts.models.Address.location_key``) and the places of incidents
(``ciss.models.Location.key``) carry that key, so a search for an address finds who lives
there and what happened there whichever way it was typed.
"""

import re
from dataclasses import dataclass

# Street suffixes, in words and in their common short forms, to the postal abbreviation.
SUFFIXES: dict[str, str] = {
    "ALLEY": "ALY",
    "ALY": "ALY",
    "AVENUE": "AVE",
    "AVE": "AVE",
    "AV": "AVE",
    "BOULEVARD": "BLVD",
    "BLVD": "BLVD",
    "CIRCLE": "CIR",
    "CIR": "CIR",
    "COURT": "CT",
    "CT": "CT",
    "CRESCENT": "CRES",
    "CRES": "CRES",
    "DRIVE": "DR",
    "DR": "DR",
    "EXPRESSWAY": "EXPY",
    "EXPY": "EXPY",
    "EXTENSION": "EXT",
    "EXT": "EXT",
    "HIGHWAY": "HWY",
    "HWY": "HWY",
    "HILL": "HL",
    "HL": "HL",
    "LANE": "LN",
    "LN": "LN",
    "PARKWAY": "PKWY",
    "PKWY": "PKWY",
    "PIKE": "PIKE",
    "PLACE": "PL",
    "PL": "PL",
    "PLAZA": "PLZ",
    "PLZ": "PLZ",
    "ROAD": "RD",
    "RD": "RD",
    "ROUTE": "RTE",
    "RTE": "RTE",
    "SQUARE": "SQ",
    "SQ": "SQ",
    "STREET": "ST",
    "STR": "ST",
    "ST": "ST",
    "TERRACE": "TER",
    "TER": "TER",
    "TRAIL": "TRL",
    "TRL": "TRL",
    "TURNPIKE": "TPKE",
    "TPKE": "TPKE",
    "WAY": "WAY",
}
DIRECTIONS: dict[str, str] = {
    "NORTH": "N",
    "N": "N",
    "SOUTH": "S",
    "S": "S",
    "EAST": "E",
    "E": "E",
    "WEST": "W",
    "W": "W",
    "NORTHEAST": "NE",
    "NE": "NE",
    "NORTHWEST": "NW",
    "NW": "NW",
    "SOUTHEAST": "SE",
    "SE": "SE",
    "SOUTHWEST": "SW",
    "SW": "SW",
}
UNITS: dict[str, str] = {
    "APARTMENT": "APT",
    "APT": "APT",
    # A dwelling's unit is written Apt, Unit or # for the same door: one designator.
    "UNIT": "APT",
    "SUITE": "STE",
    "STE": "STE",
    "FLOOR": "FL",
    "FL": "FL",
    "ROOM": "RM",
    "RM": "RM",
    "BUILDING": "BLDG",
    "BLDG": "BLDG",
    "LOT": "LOT",
    "#": "APT",
}
_WORDS = re.compile(r"#|[A-Z0-9]+(?:[-/][A-Z0-9]+)*")
_HOUSE_NUMBER = re.compile(r"^\d+[A-Z]?(?:-\d+[A-Z]?)?$|^\d+/\d+$")
_FRACTION = re.compile(r"^\d+/\d+$")
_NUMBER_WITH_FRACTION = re.compile(r"^(\d+)-(\d+/\d+)$")


@dataclass(frozen=True)
class NormalizedAddress:
    street_number: str
    street_name: str  # "N MAIN ST"
    unit: str  # "APT 3"
    city: str
    state: str
    postal_code: str

    @property
    def street(self) -> str:
        """Number, street and unit on one line: ``12 N MAIN ST APT 3``."""
        return " ".join(part for part in (self.street_number, self.street_name, self.unit) if part)

    @property
    def key(self) -> str:
        """What is compared: street line, city and state. The postal code is left out:
        it is often missing or wrong where the rest is right."""
        return ", ".join(part for part in (self.street, self.city, self.state) if part)

    def __str__(self) -> str:
        place = " ".join(part for part in (self.state, self.postal_code) if part)
        return ", ".join(part for part in (self.street, self.city, place) if part)


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.upper().replace(".", " ").replace(",", " "))


def normalize_street(line1: str, line2: str = "") -> tuple[str, str, str]:
    """The house number, street name and unit of a street line (and a second line that
    holds the unit), each normalised: ``("12", "N MAIN ST", "APT 3")``."""
    words = _words(f"{line1} {line2}")
    number = ""
    if words and (halves := _NUMBER_WITH_FRACTION.match(words[0])):
        number, words = f"{halves[1]} {halves[2]}", words[1:]  # 12-1/2 is 12 1/2
    elif words and _HOUSE_NUMBER.match(words[0]):
        number, words = words[0], words[1:]
        if words and _FRACTION.match(words[0]) and not _FRACTION.match(number):
            number, words = f"{number} {words[0]}", words[1:]
    # The unit: from the first unit designator to the end ("APT 3", "# 3", "#3").
    unit_words: list[str] = []
    for position, word in enumerate(words):
        if word in UNITS and position > 0:
            designator = UNITS[word]
            rest = words[position + 1 :]
            unit_words = [designator, *rest] if rest else [designator]
            words = words[:position]
            break
    street: list[str] = []
    last = len(words) - 1
    for position, word in enumerate(words):
        # North Main St: a direction; West St: the street's name.
        names_follow = any(other not in SUFFIXES for other in words[position + 1 :])
        if (
            word in DIRECTIONS
            and last > 0
            and (position == last or (position == 0 and names_follow))
        ):
            street.append(DIRECTIONS[word])
        elif word in SUFFIXES and position >= last - 1 and position > 0:
            street.append(SUFFIXES[word])
        else:
            street.append(word)
    return number, " ".join(street), " ".join(unit_words)


def normalize_address(
    line1: str, line2: str = "", city: str = "", state: str = "", postal_code: str = ""
) -> NormalizedAddress:
    number, street, unit = normalize_street(line1, line2)
    return NormalizedAddress(
        street_number=number,
        street_name=street,
        unit=unit,
        city=" ".join(_words(city)),
        state=state.strip().upper(),
        postal_code=re.sub(r"[^0-9-]", "", postal_code)[:10],
    )


def location_key(
    line1: str, line2: str = "", city: str = "", state: str = "", postal_code: str = ""
) -> str:
    return normalize_address(line1, line2, city, state, postal_code).key


def typed_location_key(text: str) -> str:
    """The key of an address typed on one line with commas, "street[, unit], city, state
    [zip]" ("12 North Main Street, Apt 3, Hartford, CT 06103"); empty when it has fewer
    than three parts."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) < 3 or not all(parts):
        return ""
    state, _, postal_code = parts[-1].partition(" ")
    return location_key(parts[0], " ".join(parts[1:-2]), parts[-2], state, postal_code)
