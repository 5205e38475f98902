"""Blocking keys: short strings stored per name row and looked up per query, so candidate
retrieval is an indexed ``key IN (...)`` and never a scan.

Every name row of a person (the primary name and each alias, with its own date of birth)
stores :func:`name_keys`; a search looks up :func:`query_keys` and scores the rows found.
Each key is ``KIND:part:part`` in ASCII, under 64 characters.

Building blocks
    *surname codes* — for the joined surname, each significant part (García-López →
    GARCIA, LOPEZ; De La Cruz → CRUZ) and each spelling variant (McDonald/MacDonald):
    ``m`` + Metaphone and ``s`` + Soundex. Two algorithms because each keeps a code through
    misspellings the other does not (see :mod:`obts.matching.phonetic`).
    *given codes* — Metaphone of the given name and of every name it is a nickname of
    (Bill → BL, WLM, RBRT). A query and a row meet when they share a name, a sound, or a
    formal name behind two nicknames (Mike and Mickey both reach Michael). A row with no
    usable given name (none, or an initial) uses the code ``_``.
    *one-edit forms* — a folded name of four letters or more and the name with each one
    letter deleted. Two spellings share one of these exactly when they are one typo apart
    (a letter wrong, missing, extra, or two letters swapped): Cater ~ Carter, Godron ~
    Gordon, Latthew ~ Matthew — typos that change both phonetic codes.

Key kinds (stored for every row unless said otherwise)
    ``L:{surname}`` — surname alone. Looked up only when the query has a surname and
    nothing else; it is the one key with large candidate sets for common surnames.
    ``F:{given}`` — given name alone, for a query with only a given name.
    ``LF:{surname}:{given}`` — surname with given name; the middle name is stored as a
    given name too (people go by their middle name). Looked up for name queries without
    a date of birth: a few percent of a common surname's rows.
    ``LT:{one-edit surname}:{own given code}`` and ``FT:{one-edit given}:{m-surname}`` — a
    typo in one name while the other is right; looked up for name queries without a date
    of birth (with one, ``FD``, ``LD`` and ``DI`` find a typo in either name).
    ``LFY:{surname}:{given}:{yyyy}`` and ``LFMD:{surname}:{given}:{mmdd}`` — names with
    half the date of birth (rows with a date of birth). Looked up for full queries (names
    and date of birth): a date that is wrong by a swapped day and month, one day, a year,
    one digit or two transposed digits almost always leaves one half intact, so the date
    is lenient while the candidate set stays tiny even for Smith/John.
    ``LFX:{surname}:{given}`` — names of a row with *no* date of birth, so a query with a
    date of birth still finds rows that lack one without looking up every John Smith.
    ``LD:{m-surname}:{yyyymmdd}`` — surname with the full date: finds the person when the
    given name is wrong, missing or an unlisted nickname.
    ``FD:{given}:{yyyymmdd}`` — given name with the full date: finds the person when the
    surname is misspelled beyond its codes, married, or missing (an officer may know only
    a first name and a date of birth).
    ``DI:{yyyymmdd}:{initials}`` — full date with the first letters of given name and
    surname: finds the person when the names are misspelled (both, or one together with a
    near-miss date) but the initials are right. About 40 persons in a million share a date
    of birth, and few of them share the initials. The two letters are in alphabetical
    order, not name order, so one key serves a query in either order: ``DI`` keys are
    most of a full query's, one per near-miss date, and swapped names would otherwise
    double them.

Query side
    Names and date (full query): ``LFY``, ``LFMD``, ``LFX``, ``LD``, ``FD`` with the exact
    date and ``DI`` with every near miss of the date
    (:func:`~obts.matching.dates.lenient_dobs`): any single damaged element (surname,
    given name or date) leaves at least one path intact, and so do most pairs. Names
    only: ``LF``, ``LT``, ``FT``. Surname and date: ``LD``; given name and date: ``FD``;
    each over every near miss of the date, since the date is then half of what the query
    has. Surname only: ``L``; given name only: ``F``. With both names the same keys are
    added with the names swapped.

Sizes at 1,000,000 persons (about 1% Smith, 2-4% of them John): a full query reads a
handful of rows; names without a date a few hundred (a few percent of the surname); only
``L`` and ``F`` can return thousands, and only for a bare common name. A name row stores
about 40 keys (up to a few hundred for a compound surname and a nickname-rich given
name); a query looks up about 20-60 keys without a date of birth and 60-150
with one (one ``DI``, ``FD`` or ``LD`` key per near-miss date), each an index probe.

Not covered: a query whose date of birth is wholly wrong *and* whose names are damaged,
a misspelled name whose phonetic codes and initial both change together with a wrong date,
and a query whose given name is only an initial and that has no date of birth (found by
surname alone only when nothing else is given). Identifiers (SID, FBI number, driver's
licence) are exact columns, not keys.

Storage
    The database stores each key as a 64-bit hash (:func:`key_hash`), not as text: at a
    million persons there are about 40 million keys, and an eight-byte integer keeps the
    table and its index a third of the size and the index build several times faster. Two
    keys sharing a hash (about one pair in 10^11 at that size) only add a candidate that
    scoring then rejects; they never hide one.
"""

import functools
import hashlib
from collections.abc import Iterable
from datetime import date

from obts.matching.dates import lenient_dobs
from obts.matching.nicknames import name_group
from obts.matching.normalize import normalize_given, normalize_surname
from obts.matching.phonetic import metaphone, soundex

NO_GIVEN = "_"
_HASH_BYTES = 8
_EDIT_MIN = 4
_EDIT_MAX = 20
_blake2b = hashlib.blake2b
_from_bytes = int.from_bytes

KEY_KINDS: dict[str, str] = {
    "L": "surname code alone",
    "F": "given-name code alone",
    "LF": "surname code and given-name code",
    "LT": "surname within one typo, and given-name code",
    "FT": "given name within one typo, and surname code",
    "LFY": "surname, given name and year of birth",
    "LFMD": "surname, given name and month and day of birth",
    "LFX": "surname and given name of a row without a date of birth",
    "LD": "surname and full date of birth",
    "FD": "given name and full date of birth",
    "DI": "full date of birth and initials",
}


def surname_codes(last: str) -> tuple[frozenset[str], frozenset[str]]:
    """``(metaphone_codes, all_codes)`` of a surname's joined form, parts and variants;
    each code is prefixed ``m`` (Metaphone) or ``s`` (Soundex). Empty sets for a surname
    with fewer than two letters."""
    forms = normalize_surname(last)
    names = [n for n in forms.all_forms if len(n) >= 2]
    meta = frozenset("m" + code for n in names if (code := metaphone(n)))
    sdx = frozenset("s" + code for n in names if (code := soundex(n)))
    return meta, meta | sdx


def given_codes(first: str) -> frozenset[str]:
    """Metaphone codes of a given name and of every name it is a nickname of (also for the
    first word of a compound given name). Empty for an initial or an empty name."""
    forms = normalize_given(first)
    names: set[str] = set()
    for name in {forms.key, *forms.parts[:1]}:
        if len(name) >= 2:
            names |= name_group(name)
    return frozenset(code for name in names if (code := metaphone(name)))


def _own_given_code(first: str) -> str:
    key = normalize_given(first).key
    return metaphone(key) if len(key) >= 2 else ""


def one_edit_forms(folded: str) -> frozenset[str]:
    """``folded`` and each string made by deleting one of its letters (cut to 20
    letters); empty for names under four letters, where one edit makes another name."""
    word = folded[:_EDIT_MAX]
    if len(word) < _EDIT_MIN:
        return frozenset()
    return frozenset({word} | {word[:i] + word[i + 1 :] for i in range(len(word))})


def _surname_edit_forms(last: str) -> frozenset[str]:
    forms = normalize_surname(last)
    found: set[str] = set()
    for name in forms.whole_forms | set(forms.parts):
        found |= one_edit_forms(name)
    return frozenset(found)


def _typo_keys(first: str, last: str, meta: frozenset[str]) -> set[str]:
    keys: set[str] = set()
    own = _own_given_code(first)
    if own:
        keys |= {f"LT:{form}:{own}" for form in _surname_edit_forms(last)}
    keys |= {f"FT:{form}:{m}" for form in one_edit_forms(normalize_given(first).key) for m in meta}
    return keys


@functools.lru_cache(maxsize=1024)
def _lenient_ymds(dob: date) -> tuple[str, ...]:
    """:func:`~obts.matching.dates.lenient_dobs` as ``YYYYMMDD``, as the keys spell them."""
    return tuple(_ymd(d) for d in lenient_dobs(dob))


def _ymd(d: date) -> str:
    """``d`` as ``YYYYMMDD`` (``isoformat`` without its dashes: half the time of a format
    string, and a full query spells some seventy dates)."""
    return d.isoformat().replace("-", "")


def _initials(first: str, last: str) -> str:
    """The first letters of the given name and the surname, in alphabetical order (the
    same for the names swapped); empty unless both names have one."""
    given, surname = normalize_given(first).key, normalize_surname(last).key
    return "".join(sorted(given[:1] + surname[:1])) if given and surname else ""


def name_keys(first: str, middle: str, last: str, dob: date | None) -> set[str]:
    """The keys to store for one name row (a primary name or an alias, with that row's own
    date of birth). Any field may be empty; a row with no letters in any name gives an
    empty set. See the module docstring for each kind."""
    return set(_name_keys(first, middle, last, dob))


@functools.lru_cache(maxsize=1024)
def _name_keys(first: str, middle: str, last: str, dob: date | None) -> frozenset[str]:
    # Kept for the next call with the same name: intake works a new record's keys out
    # when it joins the batch's waiting records, then again when they are written.
    meta, surnames = surname_codes(last)
    givens = given_codes(first)
    names_for_lf = (givens | given_codes(middle)) or {NO_GIVEN}
    keys: set[str] = set()
    keys |= {f"F:{g}" for g in givens}
    if surnames:
        keys |= {f"L:{s}" for s in surnames}
        keys |= {f"LF:{s}:{g}" for s in surnames for g in names_for_lf}
        keys |= _typo_keys(first, last, meta)
        if dob is None:
            keys |= {f"LFX:{s}:{g}" for s in surnames for g in givens or {NO_GIVEN}}
    if dob is not None:
        ymd = _ymd(dob)
        keys |= {f"FD:{g}:{ymd}" for g in givens}
        keys |= {f"LD:{m}:{ymd}" for m in meta}
        keys |= {f"LFY:{s}:{g}:{ymd[:4]}" for s in surnames for g in givens}
        keys |= {f"LFMD:{s}:{g}:{ymd[4:]}" for s in surnames for g in givens}
        if initials := _initials(first, last):
            keys.add(f"DI:{ymd}:{initials}")
    return frozenset(keys)


def _one_order(first: str, last: str, dob: date | None, middle: str) -> set[str]:
    meta, surnames = surname_codes(last)
    givens = given_codes(first)
    if surnames and givens:
        if dob is None:
            lf_givens = givens | given_codes(middle) | {NO_GIVEN}
            keys = {f"LF:{s}:{g}" for s in surnames for g in lf_givens}
            return keys | _typo_keys(first, last, meta)
        ymd = _ymd(dob)
        keys = {f"LFX:{s}:{g}" for s in surnames for g in givens | {NO_GIVEN}}
        keys |= {f"FD:{g}:{ymd}" for g in givens}
        keys |= {f"LD:{m}:{ymd}" for m in meta}
        keys |= {f"LFY:{s}:{g}:{ymd[:4]}" for s in surnames for g in givens}
        keys |= {f"LFMD:{s}:{g}:{ymd[4:]}" for s in surnames for g in givens}
        initials = _initials(first, last)
        keys |= {f"DI:{ymd}:{initials}" for ymd in _lenient_ymds(dob)}
        return keys
    if surnames:
        if dob is None:
            return {f"L:{s}" for s in surnames}
        return {f"LD:{m}:{ymd}" for m in meta for ymd in _lenient_ymds(dob)}
    if givens:
        if dob is None:
            return {f"F:{g}" for g in givens}
        return {f"FD:{g}:{ymd}" for g in givens for ymd in _lenient_ymds(dob)}
    return set()


def query_keys(
    first: str,
    last: str,
    dob: date | None = None,
    *,
    middle: str = "",
    swapped: bool = True,
) -> set[str]:
    """The keys to look up for a search on given name ``first``, surname ``last`` and an
    optional date of birth; ``middle`` widens a name-only search to rows that use it as
    their given name. With both names, keys for the swapped order are added unless
    ``swapped`` is false.

    Refuses (``ValueError``) a query with no usable name (no letters, or only initials): a
    date of birth alone is not a search. A query whose given name is only an initial is
    searched as a surname-only query.
    """
    return set(_query_keys(first, last, dob, middle, swapped))


@functools.lru_cache(maxsize=256)
def _query_keys(
    first: str, last: str, dob: date | None, middle: str, swapped: bool
) -> frozenset[str]:
    # Kept for the next call with the same names: intake looks a record's names up twice,
    # once to see whether the record meets another of its batch, then to match it. A
    # name's keys are some 150 strings: a few hundred names are a few megabytes.
    if not surname_codes(last)[1] and not given_codes(first):
        raise ValueError("a search needs a given name or a surname")
    keys = _one_order(first, last, dob, middle)
    if swapped and first.strip() and last.strip():
        keys |= _one_order(last, first, dob, "")
    return frozenset(keys)


def key_hash(key: str) -> int:
    """The signed 64-bit integer the database stores for ``key`` (BLAKE2b, 8 bytes)."""
    digest = hashlib.blake2b(key.encode(), digest_size=_HASH_BYTES).digest()
    return int.from_bytes(digest, "big", signed=True)


def key_hashes(keys: Iterable[str]) -> list[int]:
    """:func:`key_hash` of every key, sorted (so batched writes lock in a stable order).

    Written out rather than calling :func:`key_hash`: a batch of 1,000 person records
    hashes some 150,000 keys, and the call cost as much as the hash (1.0 against 1.8
    microseconds a key)."""
    digests = (_blake2b(key.encode(), digest_size=_HASH_BYTES).digest() for key in keys)
    return sorted({_from_bytes(digest, "big", signed=True) for digest in digests})
