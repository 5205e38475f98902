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

Person search (:func:`search_persons`, CISS) uses the same candidates but answers a list,
not a decision: every holder of an exact identifier first (score 1.0), then the persons
whose names rank above the search floor (:func:`search_floor`), each once, as its
survivor when it was merged away.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import FilteredRelation, Prefetch, Q
from django.utils import timezone

from obts.matching import (
    CONFIDENT,
    POSSIBLE,
    Candidate,
    Query,
    Ranked,
    compare_given,
    fold,
    key_hashes,
    query_keys,
    rank,
    score,
)
from obts.models import Case, IdentifierKind, NameKey, Person, PersonIdentifier, PersonName
from obts.selectors import MAX_MERGE_HOPS, Visibility
from obts.services.intake import normalize_identifier
from obts.status import FLAG_ORDER, compute_flags, compute_status, facts_for
from portal import pg

# Bounds on the work one intake match may do; a name common enough to exceed them is
# matched on the first rows found and on the date of birth.
MAX_CANDIDATE_ROWS = 500
# Key rows read to find them: a name row meets several of a query's keys (up to about ten
# for a full query: LFY, LFMD, FD, LD, DI...).
MAX_KEY_ROWS = 10 * MAX_CANDIDATE_ROWS
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
    holders_of: Callable[[str, str, str], set[int]] | None = None,
    candidates_of: Callable[[list[NameQuery]], list[Candidate]] | None = None,
) -> PersonMatch:
    """The existing person that ``names`` (the primary name first, then aliases, each with
    its own date of birth) and the identifiers describe. Runs a few indexed queries.

    ``holders_of(kind, value, state)`` gives the persons holding an identifier, by
    default one query each, and ``candidates_of(names)`` the name rows to score, by
    default three queries; a batch passes what it read for all its records at once
    (:class:`IdentifierHolders`, :class:`BatchCandidates`)."""
    holders_of = holders_of or _identifier_holders
    candidates_of = candidates_of or _candidates
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
        holders = holders_of(kind, value, state)
        if len(holders) == 1:
            return PersonMatch(person_id=holders.pop(), rule=rule, reasons=[f"exact {rule}"])

    candidates = candidates_of(names)
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


class IdentifierHolders:
    """The persons holding any of a batch's identifiers (``(kind, value)`` pairs), read in
    one query, as the ``holders_of`` of :func:`find_person`. An identifier the batch has
    written since (:meth:`forget`), or one it did not name, is looked up on its own."""

    def __init__(self, identifiers: Iterable[tuple[str, str]]) -> None:
        self.known = {(kind, value) for kind, value in identifiers if value}
        self.found: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
        if not self.known:
            return
        rows = PersonIdentifier.objects.filter(
            kind__in={kind for kind, _ in self.known},
            value__in={value for _, value in self.known},
        ).values_list("kind", "value", "state", "person_id", "person__merged_into_id")
        for kind, value, state, person_id, merged_into in rows:
            self.found[(kind, value)].append((state, merged_into or person_id))

    def forget(self, identifiers: Iterable[tuple[str, str]] | None = None) -> None:
        """Look ``identifiers`` (all of them when None) up live from now on."""
        if identifiers is None:
            self.known.clear()
        else:
            self.known -= set(identifiers)

    def __call__(self, kind: str, value: str, state: str) -> set[int]:
        if (kind, value) not in self.known:
            return _identifier_holders(kind, value, state)
        return {person for held, person in self.found[(kind, value)] if not state or held == state}


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


def _name_ids(
    names: list[NameQuery],
    keys: list[int] | None = None,
    key_rows: Callable[[list[int]], list[int]] | None = None,
) -> list[int]:
    """The name rows whose keys meet the query's (at most ``MAX_CANDIDATE_ROWS``); on
    PostgreSQL, when none does and no name carries a date of birth, the trigram-nearest
    rows instead. ``keys`` are the names' query keys when already hashed; ``key_rows``
    reads the rows holding them (:func:`_key_rows` by default)."""
    keys = _keys(names) if keys is None else keys
    key_rows = key_rows or _key_rows
    name_ids: list[int] = []
    if keys:
        # Deduplicated here, not with DISTINCT: DISTINCT with LIMIT lets PostgreSQL walk
        # the name_id index of the whole 55-million-row table hoping to meet 500 matches
        # early (6 s at a million persons for a name and date of birth, which match a
        # dozen rows); without it the (key, name_id) primary key answers in milliseconds.
        name_ids = list(dict.fromkeys(key_rows(keys)))[:MAX_CANDIDATE_ROWS]
    if not name_ids and not any(name.dob for name in names):
        # Only when the keys found nothing: a common name's trigrams are in so many rows
        # that the index scan takes hundreds of milliseconds (bench/README.md).
        for name in names:
            name_ids += trigram_name_ids(name.first, name.last)
    return name_ids


def _key_rows(keys: list[int]) -> list[int]:
    """The name ids holding any of ``keys`` (at most ``MAX_KEY_ROWS`` rows). On
    PostgreSQL the hashes go as one array literal to a statement prepared once per
    session (:mod:`portal.pg`): the ORM's ``IN`` sends each of a query's 100-350 keys on
    its own, and planning ``= ANY`` over them costs as much as the look-up."""
    if connection.vendor != "postgresql":
        rows = NameKey.objects.filter(key__in=keys).values_list("name_id", flat=True)
        return list(rows[:MAX_KEY_ROWS])
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        pg.execute_prepared(
            cursor,
            "obts_name_key_rows",
            ["bigint[]", "integer"],
            f"SELECT {quote('name_id')} FROM {quote(NameKey._meta.db_table)} "  # noqa: S608
            f"WHERE {quote('key')} = ANY($1) LIMIT $2",
            [pg.bigint_array(keys), MAX_KEY_ROWS],
        )
        return [row[0] for row in cursor.fetchall()]


def _identifiers_of(person_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """SID, FBI number and driver's licence (with ``dl_state``) of each person: one value
    per kind is enough to score agreement; the first is kept."""
    identifiers: dict[int, dict[str, str]] = {}
    for person_id, kind, value, state in PersonIdentifier.objects.filter(
        person_id__in=set(person_ids),
        kind__in=[IdentifierKind.SID, IdentifierKind.FBI, IdentifierKind.DRIVERS_LICENSE],
    ).values_list("person_id", "kind", "value", "state"):
        held = identifiers.setdefault(person_id, {})
        held.setdefault(kind, value)
        if kind == IdentifierKind.DRIVERS_LICENSE:
            held.setdefault("dl_state", state)
    return identifiers


def _candidate(
    row: tuple[int, bool, str, str, str, str, date | None, str],
    held: dict[str, str],
    *,
    person_id: int,
    is_alias: bool,
) -> Candidate:
    _, _, first, middle, last, suffix, dob, sex = row
    return Candidate(
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
        is_alias=is_alias,
        person_id=str(person_id),
    )


_ROW_FIELDS = (
    "person_id",
    "is_primary",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "dob",
    "person__sex",
)


def _candidates(names: list[NameQuery]) -> list[Candidate]:
    name_ids = _name_ids(names)
    if not name_ids:
        return []
    rows = list(
        PersonName.objects.filter(pk__in=name_ids, person__merged_into__isnull=True).values_list(
            *_ROW_FIELDS
        )
    )
    identifiers = _identifiers_of(row[0] for row in rows)
    return [
        _candidate(row, identifiers.get(row[0], {}), person_id=row[0], is_alias=not row[1])
        for row in rows
    ]


CandidateRow = tuple[int, bool, str, str, str, str, date | None, str]

# The rows one batch look-up may read before the batch is matched live instead: full
# queries meet a handful of rows each even at a million persons.
MAX_BATCH_KEY_ROWS = 50 * MAX_CANDIDATE_ROWS


class BatchCandidates:
    """The candidates of a batch's records, read for all of them at once, as the
    ``candidates_of`` of :func:`find_person`: the name rows holding any of their query
    keys in one statement, those rows and their persons' identifiers in two more,
    instead of one key look-up and two reads per record (a thousand round trips and as
    many statements' fixed cost per batch of 1,000).

    Only records whose every name has a date of birth are read ahead: their keys are the
    narrow ones. The others, and every record once :meth:`forget` was called, are looked
    up live, as is a batch whose look-up meets more than ``MAX_BATCH_KEY_ROWS`` rows.

    The reading stays true while the batch writes: :meth:`written` adds the keys of the
    names just stored and drops what was read of the persons that write touched, so a
    record is matched against every record written before it, as when each is looked up
    live. Only other requests' writes committed meanwhile go unseen, as they would by a
    record matched a moment earlier."""

    def __init__(self, records: Iterable[list[NameQuery]]) -> None:
        self._hashed: dict[tuple[NameQuery, ...], list[int]] = {}
        wanted: set[int] = set()
        for names in records:
            keys = self.keys(names)
            if names and all(name.dob for name in names):
                wanted.update(keys)
        self.known: set[int] = set()  # keys whose rows are all in self.rows
        self.rows: dict[int, list[int]] = defaultdict(list)
        self.names: dict[int, CandidateRow | None] = {}  # None: a merged person's name
        self.identifiers: dict[int, dict[str, str]] = {}
        if not wanted:
            return
        pairs = _batch_key_rows(sorted(wanted))
        if pairs is None:
            return
        self.known = wanted
        for key, name_id in pairs:
            self.rows[key].append(name_id)
        self._read({name_id for _, name_id in pairs})

    def keys(self, names: Iterable[NameQuery]) -> list[int]:
        """The hashed query keys of ``names`` (worked out once per batch)."""
        names = tuple(names)
        if names not in self._hashed:
            self._hashed[names] = _keys(names)
        return self._hashed[names]

    def key_rows(self, keys: list[int]) -> list[int]:
        if not self.known.issuperset(keys):
            return _key_rows(keys)
        found: list[int] = []
        for key in keys:
            found += self.rows.get(key, ())
            if len(found) >= MAX_KEY_ROWS:
                break
        return found[:MAX_KEY_ROWS]

    def __call__(self, names: list[NameQuery]) -> list[Candidate]:
        name_ids = _name_ids(names, self.keys(names), self.key_rows)
        self._read([name_id for name_id in name_ids if name_id not in self.names])
        rows = [row for name_id in name_ids if (row := self.names.get(name_id)) is not None]
        return [
            _candidate(row, self.identifiers.get(row[0], {}), person_id=row[0], is_alias=not row[1])
            for row in rows
        ]

    def written(
        self, name_ids: Sequence[int], keys: Sequence[int], *, persons: Iterable[int]
    ) -> None:
        """The batch stored ``keys`` (``name_ids[i]`` holding ``keys[i]``) and changed
        ``persons`` (names, identifiers or identifying data added)."""
        known, rows = self.known, self.rows
        for name_id, key in zip(name_ids, keys, strict=True):
            if key in known:
                rows[key].append(name_id)
        touched = set(persons)
        if touched:
            self.names = {
                name_id: row
                for name_id, row in self.names.items()
                if row is None or row[0] not in touched
            }
            for person_id in touched:
                self.identifiers.pop(person_id, None)

    def forget(self) -> None:
        """Look everything up live from now on (the batch changed what it cannot
        follow, such as an update replacing a person's names)."""
        self.known.clear()
        self.rows.clear()
        self.names.clear()
        self.identifiers.clear()

    def _read(self, name_ids: Iterable[int]) -> None:
        wanted = sorted(set(name_ids))
        persons = set()
        rows = (
            row
            for part in _parts(wanted)
            for row in PersonName.objects.filter(pk__in=part).values_list(
                "pk", "person__merged_into_id", *_ROW_FIELDS
            )
        )
        for name_id, merged_into, *row in rows:
            self.names[name_id] = None if merged_into else tuple(row)
            if not merged_into:
                persons.add(row[0])
        for name_id in set(wanted) - self.names.keys():  # deleted meanwhile
            self.names[name_id] = None
        unread = sorted(persons - self.identifiers.keys())
        held: dict[int, dict[str, str]] = {}
        for part in _parts(unread):
            held.update(_identifiers_of(part))
        for person_id in unread:
            self.identifiers[person_id] = held.get(person_id, {})


def _batch_key_rows(keys: list[int]) -> list[tuple[int, int]] | None:
    """``(key, name id)`` of every name row holding any of ``keys``, or None when there are
    more than ``MAX_BATCH_KEY_ROWS``."""
    if connection.vendor != "postgresql":
        found: list[tuple[int, int]] = []
        for part in _parts(keys):
            found += NameKey.objects.filter(key__in=part).values_list("key", "name_id")
            if len(found) > MAX_BATCH_KEY_ROWS:
                break
    else:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('key')}, {quote('name_id')} "  # noqa: S608
                f"FROM {quote(NameKey._meta.db_table)} "
                f"WHERE {quote('key')} = ANY({pg.unseen_bigint_array()}) LIMIT %s",
                [pg.bigint_array(keys), MAX_BATCH_KEY_ROWS + 1],
            )
            found = cursor.fetchall()
    return None if len(found) > MAX_BATCH_KEY_ROWS else found


def _parts(values: list[int]) -> list[list[int]]:
    """``values`` cut to fit the database's limit on one statement's parameters, with room
    for a few more."""
    limit = connection.features.max_query_params
    size = limit - 16 if limit else len(values) or 1
    return [values[start : start + size] for start in range(0, len(values), size)]


# ---------------------------------------------------------------------------------------
# Person search (CISS)

SEARCH_AGREEMENT = POSSIBLE
"""Where the search floor sits between a stranger's score and a perfect match's for the
same query (see :func:`search_floor`)."""
GIVEN_AGREES = 0.85
"""A given name this similar (the same, a nickname, a part, a sound-alike or a typo)
agrees, for :func:`surname_alone_differs`."""
MAX_SEARCH_RESULTS = 100
# Holders of one exact identifier read at most (an identifier is meant to be unique).
MAX_IDENTIFIER_ROWS = 50
_EXACT_REASONS: dict[str, str] = {
    IdentifierKind.SID: "exact SID",
    IdentifierKind.FBI: "exact FBI number",
    IdentifierKind.DRIVERS_LICENSE: "exact driver's licence",
}
_STRANGE_LETTERS = "ZQXJKVWYFBHPGMDCLNRSTUIOEA"


@dataclass(frozen=True)
class PersonHit:
    """One person found by :func:`search_persons`: the primary name and identifying data,
    the stored flags (wanted first) and status, the score and its reasons, and
    ``matched_name``, the name row that matched (an alias, perhaps)."""

    person_id: int
    public_id: uuid.UUID
    score: float
    reasons: list[str]
    first_name: str
    middle_name: str
    last_name: str
    suffix: str
    dob: date | None
    sex: str
    status: str
    flags: list[str]
    matched_name: str


@dataclass
class _Found:
    score: float
    name_score: float
    exact: list[str]
    reasons: list[str]
    matched: Candidate | None
    is_alias: bool = False

    def order(self, person_id: int) -> tuple[float, int, float, bool, int]:
        return (-self.score, -len(self.exact), -self.name_score, self.is_alias, person_id)


def _far_date(dob: date) -> date:
    year = dob.year + 37 if dob.year < 1990 else dob.year - 37
    return date(year, (dob.month + 5) % 12 + 1, 28 if dob.day != 28 else 3)


def search_floor(query: Query) -> float:
    """The least score a search result must reach for ``query``.

    A query that leaves fields out cannot score 1: the missing name or date of birth counts
    as unknown (0.5), so an exact match on a surname alone scores 0.69, and a stranger
    (nothing the query gives agrees) still scores 0.31 on it. The floor is therefore
    relative: ``SEARCH_AGREEMENT`` (intake's ``POSSIBLE``, 0.70) of the way from the
    stranger's score to the perfect match's. For a full query (names and date of birth)
    that is exactly ``POSSIBLE``; for a surname alone it keeps sound-alike and misspelled
    surnames and drops different ones (Anderson ~ Andrade), and it never hides an exact
    match. Identifiers are left out: an exact one ranks first anyway.
    """
    plain = Query(
        first=query.first,
        middle=query.middle,
        last=query.last,
        suffix=query.suffix,
        dob=query.dob,
        sex=query.sex,
    )
    perfect = Candidate(
        first=plain.first,
        middle=plain.middle,
        last=plain.last,
        suffix=plain.suffix,
        dob=plain.dob,
        sex=plain.sex,
    )
    used = set(fold(f"{plain.first} {plain.middle} {plain.last}"))
    letter = next((c for c in _STRANGE_LETTERS if c not in used), "Z")
    stranger = Candidate(
        first=letter if plain.first.strip() else "",
        middle=letter if plain.middle.strip() else "",
        last=letter if plain.last.strip() else "",
        dob=_far_date(plain.dob) if plain.dob else None,
        sex=plain.sex,
    )
    low, high = score(plain, stranger).score, score(plain, perfect).score
    return round(low + SEARCH_AGREEMENT * (high - low), 4)


def search_persons(
    *,
    names: list[NameQuery],
    sex: str = "",
    sid: str = "",
    fbi_number: str = "",
    dl_number: str = "",
    limit: int = 10,
    visibility: Visibility | None = None,
    today: date | None = None,
) -> list[PersonHit]:
    """The persons a search describes, best first, at most ``limit``.

    ``names`` are the readings of the name searched for (``parse_name`` gives one or
    several), each with the date of birth; any may be left out. Every (unmerged) holder
    of an exact SID, FBI number or driver's licence (any state) ranks first with score 1.0
    and a reason such as "exact SID". Then the persons whose name rows, found through the
    name keys (or by trigram on PostgreSQL, as for intake), score at least
    :func:`search_floor` under any reading, or agree on the given name and exact date of
    birth with only the surname differing (:func:`surname_alone_differs`). Each person
    appears once, with its best name row as ``matched_name``; a row of a person merged
    away counts for its survivor.

    Flags are the stored ones, in the record page's order. Flags and status come only
    from records ``visibility`` lets through (by default no juvenile or sealed case): a
    person with a hidden case has them recomputed from the visible records.

    Bounded: at most ``MAX_CANDIDATE_ROWS`` name rows are scored, every lookup is by
    index, and a search costs a fixed handful of queries (identifier holders, keys, name
    rows, the candidates' identifiers when an identifier was given, persons with their
    flags). Refuses (``ValueError``) a ``limit`` outside 1..``MAX_SEARCH_RESULTS``.
    """
    if not 1 <= limit <= MAX_SEARCH_RESULTS:
        raise ValueError(f"limit must be between 1 and {MAX_SEARCH_RESULTS}")
    identifiers: dict[str, str] = {
        IdentifierKind.SID: normalize_identifier(sid),
        IdentifierKind.FBI: normalize_identifier(fbi_number),
        IdentifierKind.DRIVERS_LICENSE: normalize_identifier(dl_number),
    }
    searchable = [name for name in names if _searchable(name)]
    holders, merged = _exact_holders(identifiers)
    rows = _search_rows(searchable)
    survivors = _survivors(merged | {row[0]: row[8] for row in rows if row[8] is not None})
    exact = _survivor_holders(holders, survivors)
    candidates = _search_candidates(rows, survivors, with_identifiers=any(identifiers.values()))

    found: dict[int, _Found] = {}
    for name in searchable:
        query = Query(
            first=name.first,
            middle=name.middle,
            last=name.last,
            suffix=name.suffix,
            dob=name.dob,
            sex=sex,
            sid=identifiers[IdentifierKind.SID],
            fbi_number=identifiers[IdentifierKind.FBI],
            dl_number=identifiers[IdentifierKind.DRIVERS_LICENSE],
        )
        floor = search_floor(query)
        for item in rank(query, candidates):
            person_id = int(item.candidate.person_id)
            below = item.match.score < floor
            if below and person_id not in exact and not surname_alone_differs(query, item):
                continue
            held = found.get(person_id)
            if held is not None and held.name_score >= item.match.score:
                continue
            found[person_id] = _Found(
                score=item.match.score,
                name_score=item.match.score,
                exact=[],
                reasons=item.match.reasons,
                matched=item.candidate,
                is_alias=item.candidate.is_alias,
            )
    for person_id, kinds in exact.items():
        reasons = [_EXACT_REASONS[kind] for kind in kinds]
        held = found.get(person_id)
        more = [r for r in held.reasons if r not in reasons] if held is not None else []
        found[person_id] = _Found(
            score=1.0,
            name_score=held.name_score if held is not None else 0.0,
            exact=reasons,
            reasons=reasons + more,
            matched=held.matched if held is not None else None,
            is_alias=held.is_alias if held is not None else False,
        )
    ordered = sorted(found.items(), key=lambda entry: entry[1].order(entry[0]))[:limit]
    return _hits(ordered, visibility or Visibility(), today or timezone.localdate())


def surname_alone_differs(query: Query, item: Ranked) -> bool:
    """Whether a candidate of a full query (names and date of birth) has the query's exact
    date of birth and given name, only the surname disagreeing: a surname married into,
    misspelled beyond its keys (a wrong first letter, two typos), or another person of
    that name born that day, who is rare (about forty people share a birthday in a
    million). Search shows such a person below the floor, ranked by their lower score,
    with "surname differs" among the reasons; intake never links on it."""
    candidate = item.candidate
    if query.dob is None or candidate.dob != query.dob or not query.last.strip():
        return False
    agreement, _ = compare_given(query.first, candidate.first)
    return bool(query.first.strip()) and agreement >= GIVEN_AGREES


def _searchable(name: NameQuery) -> bool:
    try:
        query_keys(name.first, name.last, name.dob, middle=name.middle)
    except ValueError:
        return False
    return True


def _exact_holders(
    identifiers: dict[str, str],
) -> tuple[dict[int, set[str]], dict[int, int]]:
    """Person id → the identifier kinds it holds exactly, and person id → the person it
    was merged into for the holders merged away."""
    condition = Q()
    for kind, value in identifiers.items():
        if value:
            condition |= Q(kind=kind, value=value)
    if not condition:
        return {}, {}
    holders: dict[int, set[str]] = {}
    merged: dict[int, int] = {}
    for kind, person_id, merged_into in PersonIdentifier.objects.filter(condition).values_list(
        "kind", "person_id", "person__merged_into_id"
    )[:MAX_IDENTIFIER_ROWS]:
        holders.setdefault(person_id, set()).add(kind)
        if merged_into is not None:
            merged[person_id] = merged_into
    return holders, merged


def _survivor_holders(
    holders: dict[int, set[str]], survivors: dict[int, int]
) -> dict[int, list[str]]:
    """The holders as their survivors, each with its kinds in SID, FBI, licence order."""
    kinds_of: dict[int, set[str]] = {}
    for person_id, kinds in holders.items():
        kinds_of.setdefault(survivors.get(person_id, person_id), set()).update(kinds)
    order = list(_EXACT_REASONS)
    return {pid: sorted(kinds, key=order.index) for pid, kinds in kinds_of.items()}


def _search_rows(
    names: list[NameQuery],
) -> list[tuple[int, bool, str, str, str, str, date | None, str, int | None]]:
    if not names:
        return []
    name_ids = _name_ids(names)
    if not name_ids:
        return []
    return list(
        PersonName.objects.filter(pk__in=name_ids).values_list(
            *_ROW_FIELDS, "person__merged_into_id"
        )
    )


def _survivors(merged: dict[int, int]) -> dict[int, int]:
    """Person id → the survivor it was merged into, from ``merged`` (person id → the person
    it was merged into, as the rows read gave it), following a merge of a merge up to
    ``MAX_MERGE_HOPS``. Names and identifiers move to the survivor on a merge, so
    ``merged`` is almost always empty and this reads nothing."""
    step = dict(merged)
    checked: set[int] = set()
    for _ in range(MAX_MERGE_HOPS):
        further = {target for target in step.values() if target not in step} - checked
        if not further:
            break
        checked |= further
        step |= dict(
            Person.objects.filter(pk__in=further, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )
    final: dict[int, int] = {}
    for person_id in step:
        target = person_id
        for _ in range(MAX_MERGE_HOPS + 1):
            if target not in step:
                break
            target = step[target]
        final[person_id] = target
    return final


def _search_candidates(
    rows: list[tuple[int, bool, str, str, str, str, date | None, str, int | None]],
    survivors: dict[int, int],
    *,
    with_identifiers: bool,
) -> list[Candidate]:
    """Candidates of the name rows, each counted for its person's survivor (a row left on
    a merged person is an alias of the survivor). The identifiers are read only when the
    query has one: otherwise they cannot change a score."""
    owners = {row[0]: survivors.get(row[0], row[0]) for row in rows}
    identifiers = _identifiers_of(set(owners.values())) if with_identifiers and rows else {}
    return [
        _candidate(
            row[:8],
            identifiers.get(owners[row[0]], {}),
            person_id=owners[row[0]],
            is_alias=not row[1] or owners[row[0]] != row[0],
        )
        for row in rows
    ]


_PERSON_FIELDS = (
    "pk",
    "public_id",
    "sex",
    "status",
    "flags",
    "primary_name__first_name",
    "primary_name__middle_name",
    "primary_name__last_name",
    "primary_name__suffix",
    "primary_name__dob",
    "restricted_views",
)


def _hits(
    ordered: list[tuple[int, _Found]], visibility: Visibility, today: date
) -> list[PersonHit]:
    """The found persons with their primary names, flags and status as ``visibility``
    sees them (``Person.restricted_views``): one query, more only for persons whose
    restricted views were never computed (:func:`flags_from_records`)."""
    if not ordered:
        return []
    persons = Person.objects.filter(pk__in=[pid for pid, _ in ordered]).annotate(
        primary_name=FilteredRelation("names", condition=Q(names__is_primary=True))
    )
    rows: dict[int, tuple[object, ...]] = {}
    for values in persons.order_by("pk", "primary_name__id").values_list(*_PERSON_FIELDS):
        rows.setdefault(values[0], values)
    visible: dict[int, tuple[list[str], str]] = {}
    missing: dict[int, tuple[object, object]] = {}
    for pid, values in rows.items():
        view = as_seen(values[3], values[4], values[10], visibility)
        if view is None:
            missing[pid] = (values[3], values[4])
        else:
            visible[pid] = view
    visible |= flags_from_records(missing, visibility, today)

    hits: list[PersonHit] = []
    for person_id, item in ordered:
        values = rows.get(person_id)
        if values is None:  # deleted since the search read it
            continue
        _, public_id, sex, status, flags, first, middle, last, suffix, dob = values[:10]
        if person_id in visible:
            flags, status = visible[person_id]
        primary = (str(first or ""), str(middle or ""), str(last or ""), str(suffix or ""))
        matched = item.matched
        shown = (
            (matched.first, matched.middle, matched.last, matched.suffix) if matched else primary
        )
        hits.append(
            PersonHit(
                person_id=person_id,
                public_id=uuid.UUID(str(public_id)),
                score=item.score,
                reasons=item.reasons,
                first_name=primary[0],
                middle_name=primary[1],
                last_name=primary[2],
                suffix=primary[3],
                dob=dob if isinstance(dob, date) else None,
                sex=str(sex),
                status=str(status),
                flags=in_flag_order(flags),
                matched_name=" ".join(part.strip() for part in shown if part.strip()),
            )
        )
    return hits


def in_flag_order(flags: object) -> list[str]:
    """Flags in display order (wanted first), each once, whatever order they were stored in."""
    values = [str(flag) for flag in flags] if isinstance(flags, list) else []
    return sorted(
        dict.fromkeys(values),
        key=lambda flag: FLAG_ORDER.index(flag) if flag in FLAG_ORDER else len(FLAG_ORDER),
    )


def _visible_flags_and_status(
    person_ids: list[int], visibility: Visibility, today: date
) -> dict[int, tuple[list[str], str]]:
    """Flags and status of persons computed from the records ``visibility`` lets through,
    as the record view computes them (a sealed pending case must not show through a
    ``pending_case`` flag)."""
    persons = Person.objects.filter(pk__in=person_ids).prefetch_related(
        Prefetch("cases", queryset=Case.objects.filter(visibility.case_filter())),
        "custody_periods",
        "supervisions",
        "protective_orders",
        "warrants",
        "registrations",
    )
    computed: dict[int, tuple[list[str], str]] = {}
    for person in persons:
        facts = facts_for(person)
        computed[person.pk] = (compute_flags(facts, today), compute_status(facts))
    return computed


def as_seen(
    status: object, flags: object, views: object, visibility: Visibility
) -> tuple[list[str], str] | None:
    """A person's flags (in display order) and status as a reader with ``visibility``
    sees them, from the stored ones and ``Person.restricted_views``; None when a hiding
    reader meets a person whose views were never computed (:func:`flags_from_records`
    then decides)."""
    key = visibility.hidden_key
    if key and isinstance(views, dict):
        view = views.get(key)
        if isinstance(view, list) and len(view) == 2:
            status, flags = view
    elif key:
        return None
    return in_flag_order(flags), str(status)


def flags_as_seen(
    persons: list[Person], visibility: Visibility, today: date | None = None
) -> dict[int, tuple[list[str], str]]:
    """Flags (in display order) and status of each of ``persons`` as a reader with
    ``visibility`` sees them: from what is stored, with no query, unless a person's
    restricted views were never computed."""
    seen: dict[int, tuple[list[str], str]] = {}
    missing: dict[int, tuple[object, object]] = {}
    for person in persons:
        view = as_seen(person.status, person.flags, person.restricted_views, visibility)
        if view is None:
            missing[person.pk] = (person.status, person.flags)
        else:
            seen[person.pk] = view
    return seen | flags_from_records(missing, visibility, today)


def flags_from_records(
    stored: dict[int, tuple[object, object]], visibility: Visibility, today: date | None = None
) -> dict[int, tuple[list[str], str]]:
    """For persons whose restricted views were never computed (person id → stored status
    and flags): the stored ones for those without a case ``visibility`` hides, and for
    the others flags and status computed from the records it lets through. One query,
    and one per kind of record when some person has such a case."""
    if not stored:
        return {}
    hidden = set(
        Case.objects.filter(~visibility.case_filter(), person_id__in=list(stored))
        .values_list("person_id", flat=True)
        .order_by()  # not the model's ordering: its columns would join the DISTINCT
        .distinct()
    )
    seen = {
        pid: (in_flag_order(flags), str(status))
        for pid, (status, flags) in stored.items()
        if pid not in hidden
    }
    if hidden:
        computed = _visible_flags_and_status(
            sorted(hidden), visibility, today or timezone.localdate()
        )
        seen |= {pid: (in_flag_order(flags), status) for pid, (flags, status) in computed.items()}
    return seen
