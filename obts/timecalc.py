"""Sentence time calculation: when a sentence starts, its maximum release date and when
supervision after it ends, with the arithmetic written out so a records clerk can check it.

Conventions (applied everywhere in this module):

- Terms are whole days, as stored on the sentence: ``incarceration_days``,
  ``suspended_days``, ``jail_credit_days``, ``probation_days``,
  ``conditional_discharge_days``.
- **Days to serve** = incarceration - suspended - jail credit, never below 0 (credit
  beyond the unsuspended term is not carried to another sentence).
- **The start day counts as a day served.** A term of N days that starts on day S ends on
  S + N - 1: a 1-day sentence imposed and served on 1 March releases on 1 March; 365 days
  from 1 March 2025 release on 28 February 2026. Supervision terms count the same way.
- **Start.** A concurrent sentence starts on the day it is imposed. A consecutive one
  (``relation`` consecutive and ``consecutive_to`` set) starts the day after the
  maximum release date of the sentence it follows — but never before its own imposition
  date, and on its imposition date when the sentence it follows has nothing to serve.
- **Maximum release date** = start + days to serve - 1. With nothing to serve there is no
  release date on this sentence.
- **Supervision** (probation or conditional discharge) begins the day after the maximum
  release date, or on the start date when nothing is to be served. A sentence carrying
  both terms runs them together, so supervision ends with the longer one.
- **Errors** are steps, not exceptions: a consecutive chain that loops, or one that points
  at a sentence of another person (or one not in the list given), gives no dates and a
  step saying why; so does every sentence consecutive to such a sentence.

Terms that are exactly whole calendar years or months from the day they begin are
described as such ("3 years (1,096 days)") so the clerk can compare them with the
judgment; the arithmetic itself is always in days.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction

from obts.models import Person, Sentence, SentenceRelation

CONSECUTIVE_STEP_PREFIX = "Consecutive to "


@dataclass
class Calculation:
    """The computed dates of one sentence and how each was found."""

    starts_on: date | None = None
    max_release_on: date | None = None
    supervision_ends_on: date | None = None
    days_to_serve: int = 0
    steps: list[str] = field(default_factory=list)
    error: bool = False


# ---------------------------------------------------------------------------------------
# Describing terms


def _add_years(start: date, years: int) -> date:
    year = start.year + years
    # 29 February plus whole years lands on 28 February of a common year.
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return start.replace(year=year, day=day)


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _plural(count: int, unit: str) -> str:
    return f"{count:,} {unit}{'' if count == 1 else 's'}"


def describe_term(days: int, begins_on: date | None) -> str:
    """``days`` in words: "2 years (731 days)" when the term is exactly whole years (or
    months) counted from ``begins_on``, otherwise "45 days"."""
    in_days = _plural(days, "day")
    if days <= 0 or begins_on is None:
        return in_days
    try:
        for years in range(1, 100):
            length = (_add_years(begins_on, years) - begins_on).days
            if length == days:
                return f"{_plural(years, 'year')} ({in_days})"
            if length > days:
                break
        for months in range(1, 12 * 100):
            length = (_add_months(begins_on, months) - begins_on).days
            if length == days:
                return f"{_plural(months, 'month')} ({in_days})"
            if length > days:
                break
    except (ValueError, OverflowError):
        pass
    return in_days


def _iso(day: date) -> str:
    return day.isoformat()


def _last_day(start: date, days: int) -> date:
    """The last day of a term of ``days`` (>= 1) that starts on ``start`` (counted)."""
    return start + timedelta(days=days - 1)


def sentence_label(sentence: Sentence) -> str:
    """ "sentence of 2024-06-10", with the docket when the case was loaded with it."""
    label = f"sentence of {_iso(sentence.imposed_on)}"
    if Sentence.case.is_cached(sentence) and sentence.case is not None:
        label += f" ({sentence.case.reference})"
    return label


# ---------------------------------------------------------------------------------------
# The calculation


def _days_to_serve(sentence: Sentence, steps: list[str]) -> int:
    imposed = sentence.imposed_on
    incarceration = sentence.incarceration_days
    suspended = min(sentence.suspended_days, incarceration)
    to_serve = incarceration - suspended
    term = describe_term(incarceration, imposed)
    if incarceration == 0:
        steps.append(f"Imposed {_iso(imposed)}: no incarceration → 0 days to serve")
    elif suspended == 0:
        steps.append(
            f"Imposed {_iso(imposed)}: {term} incarceration → {_plural(to_serve, 'day')} to serve"
        )
    elif suspended == incarceration:
        steps.append(
            f"Imposed {_iso(imposed)}: {term} incarceration, all suspended → 0 days to serve"
        )
    else:
        steps.append(
            f"Imposed {_iso(imposed)}: {term} incarceration, "
            f"{describe_term(suspended, imposed)} suspended → {_plural(to_serve, 'day')} to serve"
        )
    credit = sentence.jail_credit_days
    if credit and to_serve:
        if credit >= to_serve:
            steps.append(
                f"Jail credit {_plural(credit, 'day')} covers the {_plural(to_serve, 'day')} "
                "to serve → 0 days"
            )
            to_serve = 0
        else:
            to_serve -= credit
            steps.append(f"Jail credit {_plural(credit, 'day')} → {_plural(to_serve, 'day')}")
    elif credit:
        steps.append(f"Jail credit {_plural(credit, 'day')}: nothing to serve to apply it to")
    return to_serve


class _Calculator:
    def __init__(self, sentences: Sequence[Sentence]) -> None:
        self.by_pk = {sentence.pk: sentence for sentence in sentences}
        self.results: dict[int, Calculation] = {}
        self.loop_members = self._loop_members()

    def _follows(self, sentence: Sentence) -> Sentence | None:
        """The sentence this one is consecutive to, when it is in the list."""
        target_pk = sentence.consecutive_to_id
        if sentence.relation != SentenceRelation.CONSECUTIVE or target_pk is None:
            return None
        return self.by_pk.get(target_pk)

    def _loop_members(self) -> set[int]:
        """The sentences on a loop of consecutive links (each follows, in the end, itself)."""
        members: set[int] = set()
        for sentence in self.by_pk.values():
            seen: list[int] = []
            current: Sentence | None = sentence
            while current is not None and current.pk not in seen:
                seen.append(current.pk)
                current = self._follows(current)
            if current is not None:
                members.update(seen[seen.index(current.pk) :])
        return members

    def calculate(self, sentence: Sentence) -> Calculation:
        done = self.results.get(sentence.pk)
        if done is not None:
            return done
        result = self._calculate(sentence)
        self.results[sentence.pk] = result
        return result

    def _calculate(self, sentence: Sentence) -> Calculation:
        steps: list[str] = []
        to_serve = _days_to_serve(sentence, steps)
        start = self._start(sentence, steps)
        if start is None:
            steps.append("Dates not computed: correct the sentence records and recalculate")
            return Calculation(steps=steps, error=True)

        release: date | None = None
        if to_serve:
            release = _last_day(start, to_serve)
            steps.append(f"Maximum release date {_iso(release)}")
        else:
            steps.append("Nothing to serve → no maximum release date")

        supervision_end = self._supervision(sentence, start, release, steps)
        if sentence.fine_amount:
            steps.append(f"Fine ${sentence.fine_amount:,.2f} (does not change the dates)")
        return Calculation(
            starts_on=start,
            max_release_on=release,
            supervision_ends_on=supervision_end,
            days_to_serve=to_serve,
            steps=steps,
        )

    def _start(self, sentence: Sentence, steps: list[str]) -> date | None:
        """The start date, or None after appending the step that says why it has none."""
        imposed = sentence.imposed_on
        target_pk = sentence.consecutive_to_id
        if sentence.relation != SentenceRelation.CONSECUTIVE:
            steps.append(f"Concurrent → starts on imposition, {_iso(imposed)}")
            return imposed
        if target_pk is None:
            steps.append(
                "Marked consecutive but names no sentence to follow → starts on imposition, "
                f"{_iso(imposed)}"
            )
            return imposed
        target = self.by_pk.get(target_pk)
        if target is None or target.person_id != sentence.person_id:
            steps.append(
                f"{CONSECUTIVE_STEP_PREFIX}a sentence that is not one of this person's sentences"
            )
            return None
        if sentence.pk in self.loop_members:
            steps.append(
                f"{CONSECUTIVE_STEP_PREFIX}{sentence_label(target)}, which leads back to this "
                "one: the consecutive sentences form a loop"
            )
            return None
        before = self.calculate(target)
        label = sentence_label(target)
        if before.error:
            steps.append(f"{CONSECUTIVE_STEP_PREFIX}{label}, whose dates could not be computed")
            return None
        if before.max_release_on is None:
            steps.append(
                f"{CONSECUTIVE_STEP_PREFIX}{label}, which has nothing to serve → starts on "
                f"imposition, {_iso(imposed)}"
            )
            return imposed
        follows = before.max_release_on + timedelta(days=1)
        if follows < imposed:
            steps.append(
                f"{CONSECUTIVE_STEP_PREFIX}{label}, which ended {_iso(before.max_release_on)} "
                f"before this one was imposed → starts on imposition, {_iso(imposed)}"
            )
            return imposed
        steps.append(
            f"{CONSECUTIVE_STEP_PREFIX}{label}, which ends {_iso(before.max_release_on)} "
            f"→ starts {_iso(follows)}"
        )
        return follows

    def _supervision(
        self, sentence: Sentence, start: date, release: date | None, steps: list[str]
    ) -> date | None:
        terms = [
            (name, days)
            for name, days in (
                ("Probation", sentence.probation_days),
                ("Conditional discharge", sentence.conditional_discharge_days),
            )
            if days
        ]
        if not terms:
            return None
        begins = release + timedelta(days=1) if release is not None else start
        when = (
            f"follows release (from {_iso(begins)})"
            if release is not None
            else f"starts with the sentence, {_iso(begins)}, as nothing is to be served"
        )
        ends = [_last_day(begins, days) for _, days in terms]
        if len(terms) == 1:
            (name, days), end = terms[0], ends[0]
            steps.append(
                f"{name} of {describe_term(days, begins)} {when} → supervision ends {_iso(end)}"
            )
            return end
        for (name, days), end in zip(terms, ends, strict=True):
            steps.append(f"{name} of {describe_term(days, begins)} {when} → ends {_iso(end)}")
        steps.append(f"Both run together → supervision ends {_iso(max(ends))}")
        return max(ends)


def calculate(sentences: Iterable[Sentence]) -> dict[int, Calculation]:
    """The calculation of each sentence, by primary key.

    Pass all of one person's sentences: a consecutive link to a sentence missing from the
    list (or of another person) is reported as an error step of that sentence. Runs no
    query: ``consecutive_to`` is read through its id only.
    """
    ordered = sorted(sentences, key=lambda s: (s.imposed_on, s.pk))
    calculator = _Calculator(ordered)
    return {sentence.pk: calculator.calculate(sentence) for sentence in ordered}


@transaction.atomic
def person_sentences_recalculate(person: Person) -> None:
    """Compute every sentence of ``person`` and store ``starts_on``, ``max_release_on``,
    ``supervision_ends_on`` and ``calculation`` (the steps). Writes only sentences whose
    stored values changed."""
    sentences = list(
        Sentence.objects.filter(person=person)
        .select_related("case")
        .select_for_update(of=("self",))
    )
    results = calculate(sentences)
    changed = []
    for sentence in sentences:
        result = results[sentence.pk]
        values = (result.starts_on, result.max_release_on, result.supervision_ends_on, result.steps)
        stored = (
            sentence.starts_on,
            sentence.max_release_on,
            sentence.supervision_ends_on,
            sentence.calculation,
        )
        if values != stored:
            (
                sentence.starts_on,
                sentence.max_release_on,
                sentence.supervision_ends_on,
                sentence.calculation,
            ) = values
            changed.append(sentence)
    if changed:
        Sentence.objects.bulk_update(
            changed, ["starts_on", "max_release_on", "supervision_ends_on", "calculation"]
        )
