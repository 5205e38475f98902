"""Recall of person search (CISS) on a labelled query set, beside three naive baselines.

The population is synthetic (``generate_persons``). Each query is made from one person
(number ``n``, so the right answer is the person whose source id is ``SYN-n``) and is one
of fifteen kinds, in equal shares: nine with at most one mistake,

- ``exact``: the primary given name, surname and date of birth as stored;
- ``surname misspelled`` / ``given name misspelled``: one typing or hearing mistake
  (``Generator.misspell``: a dropped, doubled, swapped or changed letter), with the date
  of birth;
- ``nickname``: a nickname of the given name (``obts.synthetic.NICKNAMES``), with the date
  of birth; only people whose given name has one;
- ``swapped``: the surname typed as the given name and the given name as the surname,
  with the date of birth;
- ``alias``: one of the person's other names, with the date of birth given with it; only
  people with an alias;
- ``dob damaged``: the exact names with a date of birth as someone else recorded it
  (``Generator.damage_dob``: day and month swapped, a day or a year off, a changed digit);
- ``surname sound-alike``: the surname respelled the way it sounds (``_sound_alike``:
  one of PH/F, C/K, Y/I, -SON/-SEN, -MANN/-MAN, a doubled or undoubled consonant, EI/IE,
  EE/EA, Z/S, TH/T, -EZ/-ES, V/B, LL/Y...), with the date of birth;
- ``no dob``: the exact names without a date of birth.

and six harder kinds, beyond the one mistake per query the portal's keys are built for:

- ``first letter wrong``: the surname with its first letter changed (``Lam`` as ``Tam``),
  which changes both phonetic codes and the initials;
- ``both names misspelled``: one mistake in the given name and one in the surname;
- ``surname mistyped twice``: two mistakes in the surname;
- ``misspelled + dob damaged`` / ``sound-alike + dob damaged``: a misspelled or
  sound-alike surname together with a damaged date of birth;
- ``surname and dob only``: the surname and date of birth, no given name.

The table sums them up as ``all name+dob queries`` (the first eight kinds, which carry
a date of birth: the issue's target), ``all harder queries`` (the six) and ``all``.

Every query gives the name as separate given name and surname (as the API's
``first_name`` and ``last_name`` do) and each method answers the ten persons it ranks
first:

- ``portal``: ``obts.services.matching.search_persons`` (name keys, nicknames, phonetic
  codes, lenient dates of birth, the scorer; trigram candidates on PostgreSQL);
- ``icontains``: name rows whose surname contains the query's surname and given name the
  query's given name, case-insensitively, with the same date of birth when one is given,
  in row order;
- ``trigram`` (PostgreSQL only): name rows more than 0.3 similar to ``LAST FIRST``
  (pg_trgm's ``%`` on ``search_name``, through its GIN index), those with the query's date
  of birth first, then by similarity;
- ``soundex``: name rows whose surname and given name have the query's Soundex codes, with
  the same date of birth when one is given, in row order (the codes are kept in an indexed
  side table of the benchmark database, so the lookup is one indexed query like the
  others).

It prints recall@1 and recall@10 per kind and method, and the median and 95th-percentile
time of one query per method. Like the other benchmarks it creates its own database
(``bench_search_eval`` on the PostgreSQL server ``DATABASE_URL`` names, a temporary file
on SQLite) and drops it at the end::

    .venv/bin/python bench/search_eval.py --persons 2000 --queries 180
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/search_eval.py
"""

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

from bench.support import (  # noqa: E402
    cpu_calibration_ms,
    cpu_model,
    create_bench_database,
    describe_database,
    percentile,
)

BENCH_DATABASE = "bench_search_eval"
TOP = 10
WARM_UP = 10
# Rows a baseline reads to find its ten persons (a person may hold several matching rows).
BASELINE_ROWS = 100
TRIGRAM_THRESHOLD = 0.3
EXAMPLES_KEPT = 25

KINDS = [
    "exact",
    "surname misspelled",
    "given name misspelled",
    "nickname",
    "swapped",
    "alias",
    "dob damaged",
    "surname sound-alike",
    "no dob",
]
HARDER_KINDS = [
    "first letter wrong",
    "both names misspelled",
    "surname mistyped twice",
    "misspelled + dob damaged",
    "sound-alike + dob damaged",
    "surname and dob only",
]
KINDS += HARDER_KINDS
ALL_WITH_DOB = "all name+dob queries"
ALL_HARDER = "all harder queries"
ALL = "all"

# Sound-alike respellings of a (lower-case) surname: (pattern, replacement). One rule,
# at one of its places, is applied per query. The first letter is kept except by C/K and
# PH/F, which are the sound-alikes that do change it (Katz ~ Catz, Phelps ~ Felps).
SOUND_ALIKES: list[tuple[str, str]] = [
    ("ph", "f"),
    ("(?<=.)f", "ph"),
    ("ck", "k"),
    ("c(?=[aou])", "k"),
    ("k(?=[aou])", "c"),
    ("(?<=.)y", "i"),
    ("(?<=.)i", "y"),
    ("sen$", "son"),
    ("son$", "sen"),
    ("mann$", "man"),
    ("(?<=.)man$", "mann"),
    (r"([bdfglmnprst])\1", r"\1"),
    (r"(?<=[aeiou])([bdglmnprt])(?=[aeiou])", r"\1\1"),
    ("ei", "ie"),
    ("ie", "ei"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("ey$", "y"),
    ("(?<=[^aeiou])y$", "ey"),
    ("(?<=[aeiou])s(?=[aeiou])", "z"),
    ("z", "s"),
    ("th", "t"),
    ("dt", "t"),
    ("(?<=.)gh", ""),
    ("x", "ks"),
    ("qu", "kw"),
    ("ou", "ow"),
    ("ow", "ou"),
    ("ez$", "es"),
    ("es$", "ez"),
    ("(?<=.)v", "b"),
    ("(?<=[aeiou])b", "v"),
    ("(?<=.)ll(?=[aeiou])", "y"),
]


@dataclass
class LabelledQuery:
    kind: str
    number: int  # the synthetic person the query was made from
    person_id: int  # the right answer
    first: str
    last: str
    dob: date | None


@dataclass
class Recall:
    queries: int = 0
    at_1: dict[str, float] = field(default_factory=dict)
    at_10: dict[str, float] = field(default_factory=dict)


@dataclass
class Latency:
    median_ms: float
    p95_ms: float


@dataclass
class Report:
    database: str
    database_version: str
    durability: str
    python: str
    platform: str
    cpus: int
    cpu_model: str
    calibration_ms: float
    persons: int
    names: int
    queries: int
    seed: int
    methods: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    recall: dict[str, Recall] = field(default_factory=dict)
    latency: dict[str, Latency] = field(default_factory=dict)
    # Queries the portal did not answer with the right person first, a few per kind: where
    # it ranked it (None: not in its ten), and how many other persons hold a name row
    # with the query's very name (and date of birth, when given), whom no method can
    # tell from the right one.
    portal_misses: list[dict[str, Any]] = field(default_factory=list)


# The labelled query set ---------------------------------------------------------------------


@dataclass
class _Named:
    first: str
    last: str
    dob: date | None


@dataclass
class _Known:
    person_id: int
    primary: _Named
    aliases: list[_Named]


def _population() -> dict[int, _Known]:
    """Synthetic person number → the person and its names, as loaded."""
    from obts.models import PersonName, PersonSource

    person_of = {
        int(source_id.removeprefix("SYN-")): person_id
        for source_id, person_id in PersonSource.objects.filter(
            source_id__startswith="SYN-"
        ).values_list("source_id", "person_id")
    }
    names: dict[int, list[tuple[bool, _Named]]] = {}
    for person_id, is_primary, first, last, dob in PersonName.objects.order_by("id").values_list(
        "person_id", "is_primary", "first_name", "last_name", "dob"
    ):
        names.setdefault(person_id, []).append((is_primary, _Named(first, last, dob)))
    known: dict[int, _Known] = {}
    for number, person_id in person_of.items():
        rows = names.get(person_id, [])
        primary = next((name for is_primary, name in rows if is_primary), None)
        if primary is not None:
            aliases = [name for is_primary, name in rows if not is_primary]
            known[number] = _Known(person_id, primary, aliases)
    return known


def _sound_alike(surname: str, rng: random.Random) -> str:
    """``surname`` respelled as it sounds by one rule of ``SOUND_ALIKES``; unchanged when
    none applies."""
    lower = surname.lower()
    places = [
        (match, replacement)
        for pattern, replacement in SOUND_ALIKES
        for match in re.finditer(pattern, lower)
    ]
    if not places:
        return surname
    match, replacement = rng.choice(places)
    respelled = lower[: match.start()] + match.expand(replacement) + lower[match.end() :]
    return "-".join(part[:1].upper() + part[1:] for part in respelled.split("-"))


def _first_letter_wrong(surname: str, rng: random.Random) -> str:
    """``surname`` with its first letter replaced by another."""
    letter = rng.choice([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != surname[:1].upper()])
    return letter + surname[1:]


def _make(kind: str, known: _Known, generator: Any) -> _Named | None:
    """The query of ``kind`` made from ``known``, or None when the person does not lend
    itself to that kind (no nickname, no alias, a name the mistake leaves unchanged)."""
    from obts.synthetic import NICKNAMES

    rng = generator.rng
    name = known.primary
    first, last, dob = name.first, name.last, name.dob
    if dob is None:
        return None
    made: _Named
    if kind == "exact":
        made = _Named(first, last, dob)
    elif kind == "surname misspelled":
        made = _Named(first, generator.misspell(last), dob)
    elif kind == "given name misspelled":
        made = _Named(generator.misspell(first), last, dob)
    elif kind == "nickname":
        if first not in NICKNAMES:
            return None
        made = _Named(rng.choice(NICKNAMES[first]), last, dob)
    elif kind == "swapped":
        made = _Named(last, first, dob)
    elif kind == "alias":
        if not known.aliases:
            return None
        alias = rng.choice(known.aliases)
        made = _Named(alias.first, alias.last, alias.dob)
    elif kind == "dob damaged":
        made = _Named(first, last, generator.damage_dob(dob))
    elif kind == "surname sound-alike":
        made = _Named(first, _sound_alike(last, rng), dob)
    elif kind == "no dob":
        made = _Named(first, last, None)
    elif kind == "first letter wrong":
        made = _Named(first, _first_letter_wrong(last, rng), dob)
    elif kind == "both names misspelled":
        made = _Named(generator.misspell(first), generator.misspell(last), dob)
    elif kind == "surname mistyped twice":
        made = _Named(first, generator.misspell(generator.misspell(last)), dob)
    elif kind == "misspelled + dob damaged":
        made = _Named(first, generator.misspell(last), generator.damage_dob(dob))
    elif kind == "sound-alike + dob damaged":
        made = _Named(first, _sound_alike(last, rng), generator.damage_dob(dob))
    elif kind == "surname and dob only":
        made = _Named("", last, dob)
    else:
        raise ValueError(kind)
    respelled = made.last.lower() != last.lower()
    changed = {
        "surname misspelled": made.last != last,
        "given name misspelled": made.first != first,
        "surname sound-alike": respelled,
        "dob damaged": made.dob != dob,
        "both names misspelled": made.first != first and made.last != last,
        "surname mistyped twice": respelled,
        "misspelled + dob damaged": respelled and made.dob != dob,
        "sound-alike + dob damaged": respelled and made.dob != dob,
    }
    return made if changed.get(kind, True) else None


def _queries(count: int, persons: int, seed: int, known: dict[int, _Known]) -> list[LabelledQuery]:
    """``count`` queries, kinds in turn, each from a person drawn at random (drawn again
    when the person does not lend itself to the kind). Same seed, same queries."""
    from obts.synthetic import Generator

    generator = Generator(seed=seed)
    queries: list[LabelledQuery] = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        for _ in range(10_000):
            number = generator.rng.randrange(persons)
            person = known.get(number)
            made = _make(kind, person, generator) if person is not None else None
            if person is not None and made is not None:
                queries.append(
                    LabelledQuery(kind, number, person.person_id, made.first, made.last, made.dob)
                )
                break
        else:
            raise SystemExit(f"error: found no person to make a {kind!r} query from")
    return queries


# The methods ----------------------------------------------------------------------------------


def _first_persons(person_ids: Any) -> list[int]:
    """The first ``TOP`` distinct persons of name rows' person ids."""
    return list(dict.fromkeys(person_ids))[:TOP]


def _portal(query: LabelledQuery) -> list[int]:
    from obts.services.matching import NameQuery, search_persons

    hits = search_persons(names=[NameQuery(query.first, "", query.last, "", query.dob)], limit=TOP)
    return [hit.person_id for hit in hits]


def _icontains(query: LabelledQuery) -> list[int]:
    from obts.models import PersonName

    rows = PersonName.objects.filter(
        last_name__icontains=query.last, first_name__icontains=query.first
    )
    if query.dob is not None:
        rows = rows.filter(dob=query.dob)
    return _first_persons(rows.order_by("id").values_list("person_id", flat=True)[:BASELINE_ROWS])


def _trigram(query: LabelledQuery) -> list[int]:
    from django.db import connection

    text = f"{query.last} {query.first}".strip().upper()
    with connection.cursor() as cursor:
        # % is similarity above pg_trgm.similarity_threshold (set to TRIGRAM_THRESHOLD).
        cursor.execute(
            "SELECT person_id FROM obts_personname WHERE search_name %% %s "
            "ORDER BY COALESCE(dob = %s, false) DESC, similarity(search_name, %s) DESC, id "
            "LIMIT %s",
            [text, query.dob, text, BASELINE_ROWS],
        )
        return _first_persons(row[0] for row in cursor.fetchall())


def _soundex(query: LabelledQuery) -> list[int]:
    from django.db import connection

    from obts.matching.phonetic import soundex

    sql = "SELECT person_id FROM bench_soundex WHERE last_code = %s"
    params: list[Any] = [soundex(query.last)]
    if query.first:
        sql += " AND first_code = %s"
        params.append(soundex(query.first))
    if query.dob is not None:
        sql += " AND dob = %s"
        params.append(query.dob.isoformat())
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY name_id LIMIT %s", [*params, BASELINE_ROWS])
        return _first_persons(row[0] for row in cursor.fetchall())


def _soundex_table() -> None:
    """The Soundex codes of every name row, in an indexed side table of the benchmark
    database (what a system searching by Soundex keeps beside its names)."""
    from django.db import connection, transaction

    from obts.matching.phonetic import soundex
    from obts.models import PersonName

    rows = [
        (name_id, person_id, soundex(last), soundex(first), dob.isoformat() if dob else None)
        for name_id, person_id, first, last, dob in PersonName.objects.values_list(
            "id", "person_id", "first_name", "last_name", "dob"
        )
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_soundex (name_id integer PRIMARY KEY, person_id integer NOT "
            "NULL, last_code varchar(4) NOT NULL, first_code varchar(4) NOT NULL, "
            "dob varchar(10))"
        )
        cursor.execute("CREATE INDEX bench_soundex_codes ON bench_soundex (last_code, first_code)")
        step = 5000
        for start in range(0, len(rows), step):
            cursor.executemany(
                "INSERT INTO bench_soundex VALUES (%s, %s, %s, %s, %s)", rows[start : start + step]
            )
        cursor.execute("ANALYZE bench_soundex")


# Running and reporting ------------------------------------------------------------------------


def _namesakes(query: LabelledQuery, known: dict[int, _Known]) -> int:
    """Other persons holding a name row with the query's given name, surname and (when
    given) date of birth, case aside."""
    wanted = (query.first.lower(), query.last.lower())
    return sum(
        1
        for person in known.values()
        if person.person_id != query.person_id
        and any(
            (name.first.lower(), name.last.lower()) == wanted
            and (query.dob is None or name.dob == query.dob)
            for name in [person.primary, *person.aliases]
        )
    )


def _evaluate(
    queries: list[LabelledQuery],
    methods: dict[str, Callable[[LabelledQuery], list[int]]],
    known: dict[int, _Known],
) -> tuple[dict[str, Recall], dict[str, Latency], list[dict[str, Any]]]:
    for query in queries[:WARM_UP]:
        for method in methods.values():
            method(query)
    ranks: dict[str, list[int | None]] = {name: [] for name in methods}
    times: dict[str, list[float]] = {name: [] for name in methods}
    misses: list[dict[str, Any]] = []
    for i, query in enumerate(queries, 1):
        # Every method answers each query in turn, so a machine slowing down during the
        # run slows them all alike.
        for name, method in methods.items():
            started = time.perf_counter()
            answer = method(query)
            times[name].append(time.perf_counter() - started)
            rank = answer.index(query.person_id) if query.person_id in answer else None
            ranks[name].append(rank)
            if name == "portal" and rank != 0:
                misses.append(
                    {
                        **asdict(query),
                        "dob": str(query.dob),
                        "rank": None if rank is None else rank + 1,
                        "answered": len(answer),
                        "namesakes": _namesakes(query, known),
                    }
                )
        if i % 200 == 0:
            print(f"  {i:,} of {len(queries):,} queries", flush=True)

    groups: dict[str, list[int]] = {kind: [] for kind in KINDS}
    groups[ALL_WITH_DOB] = []
    groups[ALL_HARDER] = []
    groups[ALL] = []
    for i, query in enumerate(queries):
        groups[query.kind].append(i)
        if query.kind in HARDER_KINDS:
            groups[ALL_HARDER].append(i)
        elif query.dob is not None:
            groups[ALL_WITH_DOB].append(i)
        groups[ALL].append(i)
    recall: dict[str, Recall] = {}
    for group, members in groups.items():
        entry = Recall(queries=len(members))
        for name in methods:
            found = [ranks[name][i] for i in members]
            if members:
                entry.at_1[name] = round(sum(r == 0 for r in found) / len(members), 3)
                entry.at_10[name] = round(sum(r is not None for r in found) / len(members), 3)
        recall[group] = entry
    latency = {
        name: Latency(
            median_ms=round(statistics.median(samples) * 1000, 2),
            p95_ms=round(percentile(samples, 0.95) * 1000, 2),
        )
        for name, samples in times.items()
    }
    kept: list[dict[str, Any]] = []
    for kind in KINDS:
        kept += [miss for miss in misses if miss["kind"] == kind][:EXAMPLES_KEPT]
    return recall, latency, kept


def _print(report: Report) -> None:
    print()
    print(f"Person search evaluation: {report.database_version} ({report.durability})")
    print(f"  database {report.database}; Python {report.python}; {report.platform}")
    print(
        f"  {report.cpus} CPUs ({report.cpu_model}); calibration {report.calibration_ms} ms "
        "(bench/support.py: lower is faster)"
    )
    print(
        f"  {report.persons:,} persons ({report.names:,} names), {report.queries:,} queries, "
        f"seed {report.seed}"
    )
    for method, reason in report.skipped.items():
        print(f"  {method}: skipped ({reason})")
    print()
    methods = report.methods
    header = f"  {'queries':<26} {'n':>5}" + "".join(
        f" {m + ' @1':>14} {'@10':>6}" for m in methods
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for group, entry in report.recall.items():
        cells = "".join(
            f" {entry.at_1.get(m, 0):>14.3f} {entry.at_10.get(m, 0):>6.3f}" for m in methods
        )
        print(f"  {group:<26} {entry.queries:>5}{cells}")
    print("  " + "-" * (len(header) - 2))
    for label, attribute in (("median ms", "median_ms"), ("p95 ms", "p95_ms")):
        cells = "".join(f" {getattr(report.latency[m], attribute):>14.1f} {'':>6}" for m in methods)
        print(f"  {label:<26} {'':>5}{cells}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--persons", type=int, default=20_000, help="population size")
    parser.add_argument("--queries", type=int, default=1_500, help="labelled queries")
    parser.add_argument("--seed", type=int, default=1, help="population and query seed")
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)
    if args.persons < 100 or args.queries < len(KINDS):
        parser.error(f"--persons must be at least 100 and --queries at least {len(KINDS)}")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from obts.models import PersonName

    settings.DEBUG = False  # no query log
    drop = create_bench_database(BENCH_DATABASE)
    try:
        print(f"loading {args.persons:,} persons ...", flush=True)
        call_command("generate_persons", count=args.persons, seed=args.seed, workers=1)
        postgres = connection.vendor == "postgresql"
        methods: dict[str, Callable[[LabelledQuery], list[int]]] = {
            "portal": _portal,
            "icontains": _icontains,
        }
        skipped: dict[str, str] = {}
        if postgres:
            methods["trigram"] = _trigram
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_limit(%s)", [TRIGRAM_THRESHOLD])
        else:
            skipped["trigram"] = "needs PostgreSQL's pg_trgm"
        methods["soundex"] = _soundex
        _soundex_table()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        known = _population()
        queries = _queries(args.queries, args.persons, args.seed, known)
        name, version, durability = describe_database()
        report = Report(
            database=name,
            database_version=version,
            durability=durability,
            python=platform.python_version(),
            platform=platform.platform(terse=True),
            cpus=os.cpu_count() or 1,
            cpu_model=cpu_model(),
            calibration_ms=cpu_calibration_ms(),
            persons=len(known),
            names=PersonName.objects.count(),
            queries=len(queries),
            seed=args.seed,
            methods=list(methods),
            skipped=skipped,
        )
        print(f"running {len(queries):,} queries with {', '.join(methods)} ...", flush=True)
        report.recall, report.latency, report.portal_misses = _evaluate(queries, methods, known)
    finally:
        drop()

    _print(report)
    output = args.output or REPO / "bench" / "results" / "search_eval.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    print(f"written to {output.relative_to(REPO) if output.is_relative_to(REPO) else output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
