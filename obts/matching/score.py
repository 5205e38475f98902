"""Scoring one candidate name row against a query, with reasons a person can read.

The score is a weighted agreement of surname (0.34), given name (0.26), date of birth
(0.30), middle name (0.05) and sex (0.05), each in [0, 1]:

- names: exact 1 (after folding case, accents and punctuation); spelling variant
  (Mc/Mac) 0.97; the same surname without particles or with its parts reordered 0.95;
  nickname 0.9; one part of a compound surname 0.9; phonetic agreement at least 0.88; a
  typo (Jaro-Winkler >= 0.85 within a few edits) its Jaro-Winkler; a first initial 0.7;
  the given name found as the middle name 0.9 of its own score; otherwise at most 0.3;
- date of birth: exact 1; day and month swapped 0.75; one day off 0.72; year off by one,
  one digit wrong or two digits transposed 0.7; otherwise 0;
- a name or date missing on either side counts 0.5 (it neither confirms nor refutes);
  a middle name or sex missing on either side is left out of the weighting.

Then it is multiplied by 0.9 when sex is recorded differently, 0.85 when generational
suffixes differ (Jr/Sr: father and son), 0.97 when the names matched only after swapping
first and last, and 0.99 for an alias row so a primary name wins a tie. An exact SID, FBI
number or driver's licence dominates: the score becomes 0.9 + 0.1 * the rest. A different
SID or FBI number on both sides multiplies it by 0.75.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import jellyfish

from obts.matching.dates import DobAgreement, dob_agreement
from obts.matching.nicknames import nickname_link
from obts.matching.normalize import SUFFIXES, NameForms, normalize_given, normalize_surname
from obts.matching.phonetic import sounds_alike

CONFIDENT = 0.93
"""At or above this, intake links the incoming record to the existing person without asking:
names agree (exactly, by nickname, by sound or by one typo) *and* the date of birth is
exact, or an exact identifier (SID, FBI number, driver's licence) agrees."""

POSSIBLE = 0.70
"""At or above this but under :data:`CONFIDENT`, intake creates a new person and opens a
possible-duplicate review against this one (same names with a near-miss or missing date of
birth, or names that only partly agree). Under it, the rows are treated as different
people. Search shows every candidate, best first, whatever its score."""

_WEIGHTS = {"last": 0.34, "first": 0.26, "dob": 0.30, "middle": 0.05, "sex": 0.05}
_UNKNOWN = 0.5
_DOB_SIMILARITY: dict[DobAgreement, float] = {
    DobAgreement.EXACT: 1.0,
    DobAgreement.SWAPPED: 0.75,
    DobAgreement.ONE_DAY: 0.72,
    DobAgreement.YEAR_OFF: 0.7,
    DobAgreement.ONE_DIGIT: 0.7,
    DobAgreement.TRANSPOSED: 0.7,
    DobAgreement.DIFFERENT: 0.0,
}
_SEXES = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F"}
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class Query:
    """What is known about the person searched for (or the subject of an incoming record).
    Empty strings and ``None`` mean unknown."""

    first: str = ""
    middle: str = ""
    last: str = ""
    suffix: str = ""
    dob: date | None = None
    sex: str = ""
    sid: str = ""
    fbi_number: str = ""
    dl_number: str = ""
    dl_state: str = ""


@dataclass(frozen=True)
class Candidate(Query):
    """One name row of a known person (its primary name or an alias with that alias's date
    of birth) with the person's identifiers. ``person_id`` is opaque to the matcher and
    groups the rows of one person in :func:`rank`."""

    is_alias: bool = False
    person_id: str = ""


@dataclass(frozen=True)
class Match:
    """A score in [0, 1] and the reasons behind it, in plain words."""

    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        """True when the score reaches :data:`CONFIDENT`."""
        return self.score >= CONFIDENT

    @property
    def possible(self) -> bool:
        """True when the score reaches :data:`POSSIBLE`."""
        return self.score >= POSSIBLE


@dataclass(frozen=True)
class Ranked:
    """A candidate with its match, as returned by :func:`rank`."""

    candidate: Candidate
    match: Match


def _display(text: str) -> str:
    return " ".join(text.split())


def _jaro_winkler(a: str, b: str) -> float:
    return jellyfish.jaro_winkler_similarity(a, b)


def _typo(a: str, b: str) -> float:
    """Similarity of two spellings that may differ by a typo; 0 when they do not look like
    one name mistyped."""
    edits = jellyfish.damerau_levenshtein_distance(a, b)
    if edits > max(1, min(len(a), len(b)) // 4):
        return 0.0
    jw = _jaro_winkler(a, b)
    if min(len(a), len(b)) >= 4 and edits == 1:
        jw = max(jw, 0.86)
    return min(jw, 0.95) if jw >= 0.85 else 0.0


def _weak(a: str, b: str) -> float:
    return max(0.0, (_jaro_winkler(a, b) - 0.7) * 2)


def compare_given(query_name: str, candidate_name: str) -> tuple[float, str]:
    """Similarity in [0, 1] of two given names and the reason in plain words: exact,
    initial, nickname, compound part, sound, typo or different. Refuses nothing; an
    empty name on either side gives ``(0.5, "")`` (unknown)."""
    q, c = normalize_given(query_name), normalize_given(candidate_name)
    if not q or not c:
        return _UNKNOWN, ""
    shown_q, shown_c = _display(query_name), _display(candidate_name)
    if q.key == c.key:
        return 1.0, "same first name"
    if len(q.key) == 1 or len(c.key) == 1:
        if q.key[0] == c.key[0]:
            return 0.7, f"first initial matches ({shown_q} ~ {shown_c})"
        return 0.0, f"first name differs ({shown_q} vs {shown_c})"
    options: list[tuple[float, str]] = [
        (_weak(q.key, c.key), f"first name differs ({shown_q} vs {shown_c})")
    ]
    nickname = _nickname_reason(q, c, shown_q, shown_c)
    if nickname:
        options.append((0.9, nickname))
    if len(q.parts) != len(c.parts) and (q.key in c.parts or c.key in q.parts):
        options.append((0.85, f"first name matches part of the other ({shown_q} ~ {shown_c})"))
    if sounds_alike(q.key, c.key):
        options.append(
            (
                max(_jaro_winkler(q.key, c.key), 0.88),
                f"first name sounds alike ({shown_q} ~ {shown_c})",
            )
        )
    typo = _typo(q.key, c.key) if len(q.parts) == len(c.parts) else 0.0
    if typo:
        options.append((typo, f"first name spelled similarly ({shown_q} ~ {shown_c})"))
    best = max(o[0] for o in options)
    if nickname:  # a nickname is the clearest explanation even when the sound is closer
        return best, nickname
    return max(options, key=lambda o: o[0])


def _nickname_reason(q: NameForms, c: NameForms, shown_q: str, shown_c: str) -> str:
    for qn in sorted({q.key, *q.parts[:1]}):
        for cn in sorted({c.key, *c.parts[:1]}):
            link = nickname_link(qn, cn)
            if link is not None:
                return link.describe(shown_q, shown_c)
    return ""


def _part_options(
    q: NameForms, c: NameForms, shown_q: str, shown_c: str
) -> list[tuple[float, str]]:
    """Options for surnames of several words (García-López, De La Cruz, O'Brien)."""
    options: list[tuple[float, str]] = []
    if len(q.tokens) < 2 and len(c.tokens) < 2:
        return options
    q_parts, c_parts = set(q.parts), set(c.parts)
    if q_parts == c_parts and q.parts != c.parts:
        options.append((0.95, f"same surname parts in another order ({shown_q} ~ {shown_c})"))
    elif q_parts == c_parts:
        options.append((0.95, f"same surname without particles ({shown_q} ~ {shown_c})"))
    elif q_parts & c_parts:
        if q_parts < c_parts:
            options.append((0.9, f"surname matches part of {shown_c}"))
        elif c_parts < q_parts:
            options.append((0.9, f"surname {shown_c} is part of {shown_q}"))
        else:
            options.append((0.85, f"surnames share a part ({shown_q} ~ {shown_c})"))
    for qp in q_parts - c_parts:
        for cp in c_parts - q_parts:
            if sounds_alike(qp, cp):
                options.append(
                    (0.82, f"surname sounds like part of the other ({shown_q} ~ {shown_c})")
                )
            elif _typo(qp, cp) >= 0.88:
                options.append((0.8, f"surname close to part of the other ({shown_q} ~ {shown_c})"))
    return options


def compare_surnames(query_name: str, candidate_name: str) -> tuple[float, str]:
    """Similarity in [0, 1] of two surnames and the reason in plain words: exact, spelling
    variant, part of a compound surname, sound, typo or different. Generational suffixes
    are ignored here. An empty surname on either side gives ``(0.5, "")`` (unknown)."""
    q, c = normalize_surname(query_name), normalize_surname(candidate_name)
    if not q or not c:
        return _UNKNOWN, ""
    shown_q, shown_c = _display(split_display(query_name)), _display(split_display(candidate_name))
    if q.key == c.key:
        return 1.0, "same surname"
    options: list[tuple[float, str]] = [
        (_weak(q.key, c.key), f"surname differs ({shown_q} vs {shown_c})")
    ]
    if q.whole_forms & c.whole_forms and set(q.parts) != set(c.parts):
        options.append((0.97, f"surname spelling variant ({shown_q} ~ {shown_c})"))
    options += _part_options(q, c, shown_q, shown_c)
    same_shape = len(q.parts) == len(c.parts)
    if same_shape and any(sounds_alike(a, b) for a in q.whole_forms for b in c.whole_forms):
        options.append(
            (
                max(_jaro_winkler(q.key, c.key), 0.88),
                f"surname sounds alike ({shown_q} ~ {shown_c})",
            )
        )
    typo = _typo(q.key, c.key) if same_shape else 0.0
    if typo:
        options.append((typo, f"surname spelled similarly ({shown_q} ~ {shown_c})"))
    return max(options, key=lambda o: o[0])


def split_display(surname: str) -> str:
    """A surname as typed without its generational suffix (for messages)."""
    forms = normalize_surname(surname)
    if not forms.suffix:
        return surname
    words = surname.replace(",", " ").split()
    return " ".join(words[:-1])


@dataclass(frozen=True)
class _Names:
    last: float
    first: float
    reasons: tuple[str, ...]

    @property
    def weighted(self) -> float:
        return _WEIGHTS["last"] * self.last + _WEIGHTS["first"] * self.first


def _compare_names(q_first: str, q_middle: str, q_last: str, c: Candidate) -> _Names:
    last, last_reason = compare_surnames(q_last, c.last)
    first, first_reason = compare_given(q_first, c.first)
    if q_first.strip() and c.middle.strip():
        by_middle, why = compare_given(q_first, c.middle)
        if by_middle * 0.9 > first and by_middle >= 0.85:
            first = by_middle * 0.9
            first_reason = f"first name matches middle name {_display(c.middle)}"
            if why not in ("same first name", ""):
                first_reason += f" ({why})"
    if q_middle.strip() and c.first.strip():
        by_middle, _ = compare_given(q_middle, c.first)
        if by_middle * 0.9 > first and by_middle >= 0.85:
            first = by_middle * 0.9
            first_reason = f"goes by middle name {_display(c.first)}"
    reasons = tuple(r for r in (last_reason, first_reason) if r)
    return _Names(last=last, first=first, reasons=reasons)


def _identifier(value: str) -> str:
    return _NOT_ALNUM.sub("", value.upper())


def _identifiers(query: Query, candidate: Candidate) -> tuple[bool, bool, list[str]]:
    """``(matched, conflicting, reasons)`` for SID, FBI number and driver's licence."""
    matched = conflict = False
    reasons: list[str] = []
    for label, q_value, c_value in (
        ("SID", query.sid, candidate.sid),
        ("FBI number", query.fbi_number, candidate.fbi_number),
    ):
        qv, cv = _identifier(q_value), _identifier(c_value)
        if qv and cv:
            if qv == cv:
                matched = True
                reasons.append(f"exact {label}")
            else:
                conflict = True
                reasons.append(f"different {label}")
    q_dl, c_dl = _identifier(query.dl_number), _identifier(candidate.dl_number)
    q_state, c_state = _identifier(query.dl_state), _identifier(candidate.dl_state)
    if q_dl and q_dl == c_dl and (not q_state or not c_state or q_state == c_state):
        matched = True
        reasons.append("exact driver's licence")
    return matched, conflict, reasons


def _sex(value: str) -> str:
    return _SEXES.get(value.strip().upper(), "")


def score(query: Query, candidate: Candidate) -> Match:
    """Score how well ``candidate`` (one name row of a known person) matches ``query``.

    Returns a :class:`Match` with the score in [0, 1] and the reasons in plain words (see
    the module docstring for the rules). Refuses nothing: fields missing on either side
    count as unknown, and a query with nothing in it scores every candidate alike.
    """
    reasons: list[str] = []
    id_matched, id_conflict, id_reasons = _identifiers(query, candidate)
    reasons += id_reasons

    names = _compare_names(query.first, query.middle, query.last, candidate)
    penalty = 1.0
    if query.first.strip() and query.last.strip():
        swapped = _compare_names(query.last, "", query.first, candidate)
        if swapped.weighted > names.weighted + 0.05:
            names = swapped
            penalty *= 0.97
            reasons.append("first and last name swapped")
    reasons += names.reasons

    parts: dict[str, float] = {"last": names.last, "first": names.first}

    if query.middle.strip() and candidate.middle.strip():
        q_mid, c_mid = normalize_given(query.middle), normalize_given(candidate.middle)
        if q_mid and c_mid:
            if (len(q_mid.key) == 1 or len(c_mid.key) == 1) and q_mid.key[0] == c_mid.key[0]:
                parts["middle"] = 0.85
            else:
                parts["middle"], _ = compare_given(query.middle, candidate.middle)
            if parts["middle"] < 0.5:
                shown = f"{_display(query.middle)} vs {_display(candidate.middle)}"
                reasons.append(f"middle name differs ({shown})")

    if query.dob is not None and candidate.dob is not None:
        agreement = dob_agreement(query.dob, candidate.dob)
        parts["dob"] = _DOB_SIMILARITY[agreement]
        reasons.append(str(agreement))
    else:
        parts["dob"] = _UNKNOWN
        if query.dob is not None:
            reasons.append("no date of birth recorded")

    q_sex, c_sex = _sex(query.sex), _sex(candidate.sex)
    if q_sex and c_sex:
        parts["sex"] = 1.0 if q_sex == c_sex else 0.0
        if q_sex != c_sex:
            penalty *= 0.9
            reasons.append(f"sex differs ({q_sex} vs {c_sex})")

    q_suffix = query.suffix or normalize_surname(query.last).suffix
    c_suffix = candidate.suffix or normalize_surname(candidate.last).suffix
    q_suffix, c_suffix = _suffix(q_suffix), _suffix(c_suffix)
    if q_suffix and c_suffix and q_suffix != c_suffix:
        penalty *= 0.85
        reasons.append(f"generational suffix differs ({q_suffix.title()} vs {c_suffix.title()})")

    weight = sum(_WEIGHTS[k] for k in parts)
    base = sum(_WEIGHTS[k] * v for k, v in parts.items()) / weight * penalty
    if id_matched:
        total = 0.9 + 0.1 * base
    elif id_conflict:
        total = base * 0.75
    else:
        total = base
    if candidate.is_alias:
        total *= 0.99
        alias = " ".join(p for p in (_display(candidate.first), _display(candidate.last)) if p)
        reasons.append(f"matched alias {alias}")
    return Match(score=round(min(1.0, max(0.0, total)), 4), reasons=reasons)


def _suffix(value: str) -> str:
    return SUFFIXES.get(_identifier(value), "")


def rank(
    query: Query, candidates: Iterable[Candidate], *, limit: int | None = None
) -> list[Ranked]:
    """Score every candidate row, keep each person's best row (rows with the same
    non-empty ``person_id`` are one person; a row without one stands alone) and return
    them best first, at most ``limit``. Ties go to primary names, then to ``person_id``."""
    best: dict[object, Ranked] = {}
    for index, candidate in enumerate(candidates):
        ranked = Ranked(candidate, score(query, candidate))
        person: object = candidate.person_id or ("row", index)
        held = best.get(person)
        if held is None or _order(ranked) < _order(held):
            best[person] = ranked
    ordered = sorted(best.values(), key=_order)
    return ordered if limit is None else ordered[:limit]


def _order(ranked: Ranked) -> tuple[float, bool, str]:
    return (-ranked.match.score, ranked.candidate.is_alias, ranked.candidate.person_id)
