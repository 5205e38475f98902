"""Lenient date-of-birth agreement: the usual ways a recorded date of birth goes wrong.

A date typed by hand is most often wrong by day and month swapped (11/05 for 05/11), one day
off, the year off by one, one digit mistyped, or two neighbouring digits transposed
(1958 for 1985). Each of these is a *near* agreement; anything else is a disagreement.
"""

import calendar
import functools
from collections.abc import Iterator
from datetime import date, timedelta
from enum import StrEnum

# Oldest and newest year a near-miss variant may have: wide, and fixed, so the result never
# depends on today's date.
_MIN_YEAR = 1880
_MAX_YEAR = 2100


class DobAgreement(StrEnum):
    """How two dates of birth agree, best first. The value is the wording shown to users."""

    EXACT = "same date of birth"
    SWAPPED = "date of birth day and month swapped"
    ONE_DAY = "date of birth one day off"
    YEAR_OFF = "year of birth off by one"
    ONE_DIGIT = "date of birth differs by one digit"
    TRANSPOSED = "date of birth has two digits transposed"
    DIFFERENT = "date of birth differs"


def _digits(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _from_digits(digits: str) -> date | None:
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _swapped(d: date) -> date | None:
    if d.day > 12 or d.day == d.month:
        return None
    return date(d.year, d.day, d.month)


def _year_shifted(d: date, years: int) -> date | None:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return None


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_YEAR = (1000, 100, 10, 1)  # the weights of a year's digits
_TWO = (10, 1)  # of a month's or a day's


def _valid(year: int, month: int, day: int) -> bool:
    """Whether the digits make a date the variants may use (as :func:`_from_digits`)."""
    if not (_MIN_YEAR <= year <= _MAX_YEAR and 1 <= month <= 12):
        return False
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    return not (month == 2 and day == 29 and not calendar.isleap(year))


def _digit_changes(value: int, weights: tuple[int, ...]) -> Iterator[int]:
    """``value`` with one of its decimal digits (at ``weights``: 1000, 100...) changed."""
    for weight in weights:
        old = value // weight % 10
        for new in range(10):
            if new != old:
                yield value + (new - old) * weight


def _one_digit_variants(d: date) -> set[date]:
    """Every valid date whose ``YYYYMMDD`` differs from ``d``'s in one digit, worked out
    by arithmetic on the year, month and day: a search or an intake record with a date
    of birth not seen before needs some seventy candidates checked."""
    year, month, day = d.year, d.month, d.day
    found = {date(y, month, day) for y in _digit_changes(year, _YEAR) if _valid(y, month, day)}
    found |= {date(year, m, day) for m in _digit_changes(month, _TWO) if _valid(year, m, day)}
    found |= {date(year, month, n) for n in _digit_changes(day, _TWO) if _valid(year, month, n)}
    return found


def _transposed_variants(d: date) -> set[date]:
    digits = _digits(d)
    found: set[date] = set()
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            variant = _from_digits(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
            if variant is not None:
                found.add(variant)
    return found


def dob_agreement(a: date, b: date) -> DobAgreement:
    """Classify how dates of birth ``a`` and ``b`` agree (symmetric). The first rule that
    holds wins, in the order of :class:`DobAgreement`."""
    if a == b:
        return DobAgreement.EXACT
    if _swapped(a) == b:
        return DobAgreement.SWAPPED
    if abs((a - b).days) == 1:
        return DobAgreement.ONE_DAY
    if (a.month, a.day) == (b.month, b.day) and abs(a.year - b.year) == 1:
        return DobAgreement.YEAR_OFF
    if sum(x != y for x, y in zip(_digits(a), _digits(b), strict=True)) == 1:
        return DobAgreement.ONE_DIGIT
    if b in _transposed_variants(a):
        return DobAgreement.TRANSPOSED
    return DobAgreement.DIFFERENT


@functools.lru_cache(maxsize=1024)
def lenient_dobs(d: date) -> frozenset[date]:
    """``d`` and every valid date that is a near miss of it (swapped day/month, ±1 day, year
    ±1, one digit changed, two neighbouring digits transposed): about fifty dates. Used to
    look up keys when the date of birth is the only thing tying a query to a person."""
    found = {d, d - timedelta(days=1), d + timedelta(days=1)}
    for variant in (_swapped(d), _year_shifted(d, -1), _year_shifted(d, 1)):
        if variant is not None:
            found.add(variant)
    found |= _one_digit_variants(d)
    found |= _transposed_variants(d)
    return frozenset(found)
