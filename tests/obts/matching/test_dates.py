from datetime import date, timedelta

import pytest

from obts.matching import DobAgreement, dob_agreement, lenient_dobs
from obts.matching.dates import _one_digit_variants

DOB = date(1985, 5, 11)


@pytest.mark.parametrize(
    ("other", "agreement"),
    [
        (date(1985, 5, 11), DobAgreement.EXACT),
        (date(1985, 11, 5), DobAgreement.SWAPPED),
        (date(1985, 5, 12), DobAgreement.ONE_DAY),
        (date(1986, 5, 11), DobAgreement.YEAR_OFF),
        (date(1985, 5, 18), DobAgreement.ONE_DIGIT),
        (date(1958, 5, 11), DobAgreement.TRANSPOSED),
        (date(1971, 2, 3), DobAgreement.DIFFERENT),
    ],
)
def test_agreement_names_the_kind_of_near_miss(other: date, agreement: DobAgreement) -> None:
    assert dob_agreement(DOB, other) == agreement
    assert dob_agreement(other, DOB) == agreement


def test_one_day_off_across_a_month_end() -> None:
    assert dob_agreement(date(1985, 3, 31), date(1985, 4, 1)) == DobAgreement.ONE_DAY


def test_a_day_over_twelve_cannot_be_swapped() -> None:
    assert dob_agreement(date(1985, 5, 25), date(1985, 12, 5)) == DobAgreement.DIFFERENT


@pytest.mark.parametrize(
    "near_miss",
    [date(1985, 11, 5), date(1985, 5, 10), date(1984, 5, 11), date(1985, 8, 11), date(1958, 5, 11)],
)
def test_lenient_dates_include_each_near_miss(near_miss: date) -> None:
    assert near_miss in lenient_dobs(DOB)


def test_lenient_dates_are_few_and_valid() -> None:
    dates = lenient_dobs(date(2000, 2, 29))
    assert date(2000, 2, 29) in dates
    assert len(dates) < 80
    assert all(1880 <= d.year <= 2100 for d in dates)


def _one_digit_apart(day: date) -> set[date]:
    """The definition, by brute force: valid dates whose YYYYMMDD differs in one digit."""
    digits = day.strftime("%Y%m%d")
    found = set()
    for i, old in enumerate(digits):
        for new in "0123456789":
            if new == old:
                continue
            text = digits[:i] + new + digits[i + 1 :]
            try:
                variant = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                continue
            if 1880 <= variant.year <= 2100:
                found.add(variant)
    return found


@pytest.mark.parametrize("year", [1880, 1899, 1900, 1999, 2000, 2004, 2099, 2100])
def test_one_digit_near_misses_are_every_valid_date_one_digit_away(year: int) -> None:
    day = date(year, 1, 1)
    while day.year == year:
        assert _one_digit_variants(day) == _one_digit_apart(day), day
        day += timedelta(days=1)
