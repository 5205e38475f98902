"""Finding the existing person an incoming record describes (intake matching).

1. Exact identifier, in this order: SID, FBI number, driver's licence with its state. An
   identifier carried by exactly one (unmerged) person links to that person; one that
   several persons carry decides nothing and the next rule is tried.
2. Name and date of birth through the person matcher (``obts.matching``): candidates are
   the name rows whose stored keys meet the record's ``query_keys`` (an indexed lookup,
   never a scan), scored by ``obts.matching.rank``. When a record without any date of
   birth meets no key at all, the candidates are, on PostgreSQL, the rows whose
   ``search_name`` is most like its name by trigram similarity (pg_trgm's GIN index):
   names misspelled in more places than the keys' one-typo forms and phonetic codes
   allow. The best person at or above
   ``CONFIDENT`` is linked; persons between ``POSSIBLE`` and ``CONFIDENT`` are returned as
   possible duplicates (intake creates a new person and opens a review for each).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from obts.matching import CONFIDENT, POSSIBLE, Candidate, Query, key_hashes, query_keys, rank
from obts.models import IdentifierKind, NameKey, PersonIdentifier, PersonName
from obts.services.intake import normalize_identifier

# Bounds on the work one intake match may do; a name common enough to exceed them is
# matched on the first rows found and on the date of birth.
MAX_CANDIDATE_ROWS = 500
MAX_POSSIBLE_DUPLICATES = 5
# Trigram candidates: at most this many rows, at least this similar (0..1).
MAX_TRIGRAM_ROWS = 50
TRIGRAM_SIMILARITY = 0.4


@dataclass(frozen=True)
class NameQuery:
    first: str
    middle: str
    last: str
    suffix: str
    dob: date | None


@dataclass(frozen=True)
class PersonMatch:
    """The outcome: link to ``person_id`` (None: create a new person), how it was
    decided, and the persons to review as possible duplicates of a new person."""

    person_id: int | None
    rule: str  # "sid", "fbi", "dl", "name_dob" or "none"
    score: float | None = None
    reasons: list[str] = field(default_factory=list)
    possible: list[tuple[int, float, list[str]]] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        described: dict[str, object] = {"rule": self.rule}
        if self.score is not None:
            described["score"] = self.score
            described["reasons"] = self.reasons
        return described


def find_person(
    *,
    names: list[NameQuery],
    sex: str = "",
    sid: str = "",
    fbi_number: str = "",
    dl_number: str = "",
    dl_state: str = "",
) -> PersonMatch:
    """The existing person that ``names`` (the primary name first, then aliases, each with
    its own date of birth) and the identifiers describe. Runs a few indexed queries."""
    identifiers = [
        ("sid", IdentifierKind.SID, normalize_identifier(sid), ""),
        ("fbi", IdentifierKind.FBI, normalize_identifier(fbi_number), ""),
    ]
    if dl_number and dl_state:
        identifiers.append(
            ("dl", IdentifierKind.DRIVERS_LICENSE, normalize_identifier(dl_number), dl_state)
        )
    for rule, kind, value, state in identifiers:
        if not value:
            continue
        holders = _identifier_holders(kind, value, state)
        if len(holders) == 1:
            return PersonMatch(person_id=holders.pop(), rule=rule, reasons=[f"exact {rule}"])

    candidates = _candidates(names)
    best: dict[int, tuple[float, list[str]]] = {}
    for query in names:
        ranked = rank(
            Query(
                first=query.first,
                middle=query.middle,
                last=query.last,
                suffix=query.suffix,
                dob=query.dob,
                sex=sex,
                sid=sid,
                fbi_number=fbi_number,
                dl_number=dl_number,
                dl_state=dl_state,
            ),
            candidates,
        )
        for item in ranked:
            person_id = int(item.candidate.person_id)
            held = best.get(person_id)
            if held is None or item.match.score > held[0]:
                best[person_id] = (item.match.score, item.match.reasons)
    ordered = sorted(best.items(), key=lambda entry: (-entry[1][0], entry[0]))
    if ordered and ordered[0][1][0] >= CONFIDENT:
        person_id, (score, reasons) = ordered[0]
        return PersonMatch(person_id=person_id, rule="name_dob", score=score, reasons=reasons)
    possible = [
        (person_id, score, reasons)
        for person_id, (score, reasons) in ordered
        if POSSIBLE <= score < CONFIDENT
    ][:MAX_POSSIBLE_DUPLICATES]
    return PersonMatch(person_id=None, rule="none", possible=possible)


def _identifier_holders(kind: str, value: str, state: str) -> set[int]:
    """The unmerged persons carrying this identifier (merged ones count as their survivor)."""
    rows = PersonIdentifier.objects.filter(kind=kind, value=value)
    if state:
        rows = rows.filter(state=state)
    holders = set()
    for person_id, merged_into in rows.values_list("person_id", "person__merged_into_id"):
        holders.add(merged_into or person_id)
    return holders


def _keys(names: Iterable[NameQuery]) -> list[int]:
    keys: set[str] = set()
    for name in names:
        try:
            keys |= query_keys(name.first, name.last, name.dob, middle=name.middle)
        except ValueError:  # no letters to search on
            continue
    return key_hashes(keys)


def trigram_name_ids(first: str, last: str, *, limit: int = MAX_TRIGRAM_ROWS) -> list[int]:
    """The name rows most like ``last first`` by trigram similarity, best first (at least
    ``TRIGRAM_SIMILARITY``), through pg_trgm's GIN index. Empty on other databases, which
    have no trigram index, and for a name with fewer than three letters."""
    text = f"{last} {first}".strip().upper()
    if connection.vendor != "postgresql" or sum(c.isalpha() for c in text) < 3:
        return []
    with connection.cursor() as cursor:
        # The % operator (similarity above pg_trgm.similarity_threshold, 0.3 unless set)
        # is what the index answers; the stricter floor is checked on the rows found.
        cursor.execute(
            "SELECT id FROM obts_personname WHERE search_name %% %s "
            "AND similarity(search_name, %s) >= %s "
            "ORDER BY similarity(search_name, %s) DESC, id LIMIT %s",
            [text, text, TRIGRAM_SIMILARITY, text, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _candidates(names: list[NameQuery]) -> list[Candidate]:
    keys = _keys(names)
    name_ids: list[int] = []
    if keys:
        name_ids = list(
            NameKey.objects.filter(key__in=keys)
            .values_list("name_id", flat=True)
            .distinct()[:MAX_CANDIDATE_ROWS]
        )
    if not name_ids and not any(name.dob for name in names):
        # Only when the keys found nothing: a common name's trigrams are in so many rows
        # that the index scan takes hundreds of milliseconds (bench/README.md).
        for name in names:
            name_ids += trigram_name_ids(name.first, name.last)
    if not name_ids:
        return []
    rows = list(
        PersonName.objects.filter(pk__in=name_ids, person__merged_into__isnull=True).values_list(
            "person_id",
            "is_primary",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "dob",
            "person__sex",
        )
    )
    person_ids = {row[0] for row in rows}
    identifiers: dict[int, dict[str, str]] = {}
    for person_id, kind, value, state in PersonIdentifier.objects.filter(
        person_id__in=person_ids,
        kind__in=[IdentifierKind.SID, IdentifierKind.FBI, IdentifierKind.DRIVERS_LICENSE],
    ).values_list("person_id", "kind", "value", "state"):
        held = identifiers.setdefault(person_id, {})
        # One value per kind is enough to score agreement; keep the first.
        held.setdefault(kind, value)
        if kind == IdentifierKind.DRIVERS_LICENSE:
            held.setdefault("dl_state", state)
    candidates = []
    for person_id, is_primary, first, middle, last, suffix, dob, sex in rows:
        held = identifiers.get(person_id, {})
        candidates.append(
            Candidate(
                first=first,
                middle=middle,
                last=last,
                suffix=suffix,
                dob=dob,
                sex=sex,
                sid=held.get(IdentifierKind.SID, ""),
                fbi_number=held.get(IdentifierKind.FBI, ""),
                dl_number=held.get(IdentifierKind.DRIVERS_LICENSE, ""),
                dl_state=held.get("dl_state", ""),
                is_alias=not is_primary,
                person_id=str(person_id),
            )
        )
    return candidates
