"""Synthetic persons, damaged queries and an in-memory key index for the matcher's
evaluation tests. Everything is seeded, so every run sees the same data."""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from faker import Faker
from faker.providers.person.en_US import Provider as EnglishNames

from obts.matching import Candidate, Query, Ranked, fold, name_keys, nicknames_of, query_keys, rank
from obts.matching.normalize import PARTICLES

FIRST_DOB = date(1940, 1, 1)
LAST_DOB = date(2007, 12, 31)

# Surnames whose shape the matcher must see through: particles, apostrophes, Mc/Mac, St.
SHAPED_SURNAMES = (
    "De La Cruz",
    "Del Rosario",
    "Van der Berg",
    "O'Brien",
    "O'Connor",
    "D'Angelo",
    "McDonald",
    "MacArthur",
    "McCarthy",
    "St. John",
    "De Souza",
    "Van Buren",
)


@dataclass(frozen=True)
class NameRow:
    first: str
    middle: str
    last: str
    dob: date | None


@dataclass
class Person:
    person_id: str
    first: str
    middle: str
    last: str
    dob: date
    sex: str
    suffix: str = ""
    sid: str = ""
    aliases: list[NameRow] = field(default_factory=list)

    def rows(self) -> list[Candidate]:
        primary = Candidate(
            first=self.first,
            middle=self.middle,
            last=self.last,
            suffix=self.suffix,
            dob=self.dob,
            sex=self.sex,
            sid=self.sid,
            person_id=self.person_id,
        )
        aliases = [
            replace(primary, first=a.first, middle=a.middle, last=a.last, dob=a.dob, is_alias=True)
            for a in self.aliases
        ]
        return [primary, *aliases]


@dataclass(frozen=True)
class DamagedQuery:
    kind: str
    query: Query
    person_id: str


class KeyIndex:
    """What the database does with the key table: key → name rows, looked up by key."""

    def __init__(self) -> None:
        self.postings: defaultdict[str, set[int]] = defaultdict(set)
        self.rows: list[Candidate] = []

    def add(self, row: Candidate) -> None:
        index = len(self.rows)
        self.rows.append(row)
        for key in name_keys(row.first, row.middle, row.last, row.dob):
            self.postings[key].add(index)

    def candidates(self, keys: set[str]) -> list[Candidate]:
        found: set[int] = set()
        for key in keys:
            found |= self.postings.get(key, set())
        return [self.rows[i] for i in sorted(found)]

    def search(self, query: Query) -> list[Ranked]:
        keys = query_keys(query.first, query.last, query.dob, middle=query.middle)
        return rank(query, self.candidates(keys))


def _dob(fake: Faker) -> date:
    return fake.date_between_dates(FIRST_DOB, LAST_DOB)


def _surname(fake: Faker, spanish: Faker, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.06:
        return rng.choice(SHAPED_SURNAMES)
    if roll < 0.14:
        joiner = rng.choice(["-", " "])
        return f"{spanish.last_name()}{joiner}{spanish.last_name()}"
    if roll < 0.26:
        return str(spanish.last_name())
    return str(fake.last_name())


def make_population(size: int, seed: int) -> list[Person]:
    """About ``size`` persons: English and Spanish names (with accents), compound and
    particle surnames, middle names, aliases (nicknames, maiden names, other dates of
    birth), and relatives sharing a surname (siblings, twins, Jr/Sr pairs)."""
    fake, spanish = Faker("en_US"), Faker("es_MX")
    fake.seed_instance(seed)
    spanish.seed_instance(seed + 1)
    rng = random.Random(seed)
    persons: list[Person] = []

    def new_id() -> str:
        return f"P{len(persons):05d}"

    while len(persons) < size:
        sex = rng.choice("MF")
        names = spanish if rng.random() < 0.2 else fake
        first = names.first_name_male() if sex == "M" else names.first_name_female()
        middle = (
            (fake.first_name_male() if sex == "M" else fake.first_name_female())
            if rng.random() < 0.5
            else ""
        )
        person = Person(
            person_id=new_id(),
            first=first,
            middle=middle,
            last=_surname(fake, spanish, rng),
            dob=_dob(fake),
            sex=sex,
            sid=f"CT{rng.randrange(10**7):07d}" if rng.random() < 0.3 else "",
        )
        roll = rng.random()
        if roll < 0.1 and nicknames_of(first):
            nickname = rng.choice(sorted(nicknames_of(first))).title()
            person.aliases.append(NameRow(nickname, "", person.last, person.dob))
        elif roll < 0.16 and sex == "F":
            person.aliases.append(NameRow(first, middle, str(fake.last_name()), person.dob))
        elif roll < 0.2:
            other_dob = person.dob + timedelta(days=rng.randrange(40, 4000))
            person.aliases.append(NameRow(first, "", person.last, other_dob))
        persons.append(person)

        roll = rng.random()
        if roll < 0.06 and len(persons) < size:  # a sibling
            sib_sex = rng.choice("MF")
            sib_first = fake.first_name_male() if sib_sex == "M" else fake.first_name_female()
            persons.append(Person(new_id(), sib_first, "", person.last, _dob(fake), sib_sex))
        elif roll < 0.09 and len(persons) < size:  # a twin
            twin_first = fake.first_name_male() if sex == "M" else fake.first_name_female()
            persons.append(Person(new_id(), twin_first, "", person.last, person.dob, sex))
        elif roll < 0.11 and len(persons) < size and sex == "M":  # father and son
            person.suffix = "Jr"
            father_dob = person.dob - timedelta(days=rng.randrange(7000, 12000))
            persons.append(Person(new_id(), first, "", person.last, father_dob, "M", suffix="Sr"))
    return persons


def build_index(persons: list[Person]) -> KeyIndex:
    index = KeyIndex()
    for person in persons:
        for row in person.rows():
            index.add(row)
    return index


# --- damage -----------------------------------------------------------------------------

_PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    ("PH", "F"),
    ("F", "PH"),
    ("CK", "K"),
    ("CH", "SH"),
    ("Y", "I"),
    ("IE", "EE"),
    ("EI", "IE"),
    ("EE", "EA"),
    ("SON", "SEN"),
    ("SEN", "SON"),
    ("MAN", "MANN"),
    ("Z", "S"),
    ("S", "Z"),
    ("C", "K"),
    ("K", "C"),
    ("LL", "L"),
    ("TT", "T"),
    ("NN", "N"),
    ("RR", "R"),
    ("SS", "S"),
    ("TH", "T"),
    ("W", "WH"),
    ("I", "Y"),
    ("AY", "EY"),
    ("OU", "OW"),
)


def misspell(name: str, rng: random.Random) -> str:
    """One letter substituted, dropped, doubled or swapped with its neighbour; the first
    letter only one time in ten, as people rarely get that one wrong."""
    letters = list(name)
    first = 0 if rng.random() < 0.1 else 1
    positions = [i for i in range(first, len(letters)) if letters[i].isalpha()]
    if not positions:
        return name
    i = rng.choice(positions)
    action = rng.choice(["substitute", "drop", "double", "transpose"])
    if action == "substitute":
        replacement = rng.choice([c for c in "aeioulnrstm" if c != letters[i].lower()])
        letters[i] = replacement.upper() if i == 0 else replacement
    elif action == "drop" and len(positions) > 3:
        del letters[i]
    elif action == "transpose" and i + 1 < len(letters) and letters[i + 1].isalpha():
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    else:
        letters.insert(i, letters[i])
    return "".join(letters)


def respell(name: str, rng: random.Random) -> str:
    """Spell a name as it sounds (Phillips → Filips, Smith → Smyth); one letter misspelled
    when no rule applies."""
    upper = name.upper()
    rules = [rule for rule in _PHONETIC_RULES if rule[0] in upper]
    if not rules:
        return misspell(name, rng)
    old, new = rng.choice(rules)
    at = upper.index(old)
    return (upper[:at] + new + upper[at + len(old) :]).title()


def _near_dob(dob: date, rng: random.Random, kind: str) -> date | None:
    if kind == "dob_swapped":
        if dob.day > 12 or dob.day == dob.month:
            return None
        return date(dob.year, dob.day, dob.month)
    if kind == "dob_one_day":
        return dob + timedelta(days=rng.choice([-1, 1]))
    if kind == "dob_year":
        try:
            return dob.replace(year=dob.year + rng.choice([-1, 1]))
        except ValueError:
            return None
    digits = f"{dob.year:04d}{dob.month:02d}{dob.day:02d}"
    for _ in range(20):
        i = rng.randrange(2, 8)
        changed = (
            digits[:i] + rng.choice([d for d in "0123456789" if d != digits[i]]) + digits[i + 1 :]
        )
        try:
            return date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
        except ValueError:
            continue
    return None


def _base_query(person: Person) -> Query:
    return Query(first=person.first, last=person.last, dob=person.dob, sex=person.sex)


def _damage(person: Person, kind: str, rng: random.Random) -> Query | None:
    q = _base_query(person)
    if kind == "typo_last":
        return replace(q, last=misspell(person.last, rng))
    if kind == "typo_first":
        return replace(q, first=misspell(person.first, rng))
    if kind == "phonetic_last":
        return replace(q, last=respell(person.last, rng))
    if kind == "phonetic_first":
        return replace(q, first=respell(person.first, rng))
    if kind == "nickname":
        nicknames = sorted(nicknames_of(person.first))
        return replace(q, first=rng.choice(nicknames).title()) if nicknames else None
    if kind == "swapped":
        return replace(q, first=person.last, last=person.first)
    if kind == "surname_part":
        pieces = person.last.split("-") if "-" in person.last else person.last.split()
        parts = [p for p in pieces if fold(p) not in PARTICLES]
        if len(parts) < 2:
            return None
        return replace(q, last=rng.choice(parts))
    if kind == "unaccented":
        from unidecode import unidecode

        if unidecode(person.first + person.last) == person.first + person.last:
            return None
        return replace(q, first=unidecode(person.first), last=unidecode(person.last))
    if kind.startswith("dob_"):
        dob = _near_dob(person.dob, rng, kind)
        return replace(q, dob=dob) if dob is not None and dob != person.dob else None
    if kind == "no_dob":
        return replace(q, dob=None)
    if kind == "first_and_dob":
        return replace(q, last="")
    if kind == "last_and_dob":
        return replace(q, first="")
    if kind == "alias":
        if not person.aliases:
            return None
        alias = rng.choice(person.aliases)
        return replace(q, first=alias.first, last=alias.last, dob=alias.dob)
    raise ValueError(kind)


DAMAGE_KINDS = (
    "typo_last",
    "typo_first",
    "phonetic_last",
    "phonetic_first",
    "nickname",
    "swapped",
    "surname_part",
    "unaccented",
    "dob_swapped",
    "dob_one_day",
    "dob_digit",
    "dob_year",
    "no_dob",
    "first_and_dob",
    "last_and_dob",
    "alias",
)


# Kinds that apply to few persons (a compound surname, an accent, an alias, a listed
# nickname) are tried first wherever they apply, so each is measured on enough queries.
_SELDOM = ("surname_part", "unaccented", "alias", "nickname")


def damaged_queries(persons: list[Person], seed: int, per_person: int = 4) -> list[DamagedQuery]:
    """For each person, ``per_person`` queries each with one kind of damage (kinds that do
    not apply to the person, such as a nickname for a name that has none, are skipped)."""
    rng = random.Random(seed)
    queries: list[DamagedQuery] = []
    for person in persons:
        common = [k for k in DAMAGE_KINDS if k not in _SELDOM]
        kinds = [*rng.sample(_SELDOM, len(_SELDOM)), *rng.sample(common, len(common))]
        made = 0
        for kind in kinds:
            query = _damage(person, kind, rng)
            if query is None:
                continue
            queries.append(DamagedQuery(kind, query, person.person_id))
            made += 1
            if made == per_person:
                break
    return queries


PAIRS = (
    ("typo_last", "dob_digit"),
    ("typo_first", "typo_last"),
    ("swapped", "dob_one_day"),
    ("nickname", "no_dob"),
    ("typo_last", "no_dob"),
    ("typo_first", "no_dob"),
    ("phonetic_last", "dob_swapped"),
    ("phonetic_last", "nickname"),
)


def doubly_damaged_queries(persons: list[Person], seed: int) -> list[DamagedQuery]:
    """For each person and each pair in :data:`PAIRS` that applies, one query with both
    kinds of damage (each damaging a different field)."""
    rng = random.Random(seed)
    queries: list[DamagedQuery] = []
    for person in persons:
        base = _base_query(person)
        for one, other in PAIRS:
            first, second = _damage(person, one, rng), _damage(person, other, rng)
            if first is None or second is None:
                continue
            changed = {
                name: getattr(second, name)
                for name in ("first", "last", "dob")
                if getattr(second, name) != getattr(base, name)
            }
            queries.append(
                DamagedQuery(f"{one}+{other}", replace(first, **changed), person.person_id)
            )
    return queries


def weighted_sampler(table: dict[str, float], rng: random.Random) -> Callable[[int], list[str]]:
    names, weights = list(table), list(table.values())

    def sample(k: int) -> list[str]:
        return rng.choices(names, weights=weights, k=k)

    return sample


def make_large_population(size: int, seed: int) -> list[Candidate]:
    """``size`` primary name rows drawn from US census-weighted first and last names (fast,
    no Faker calls), to measure candidate-set sizes."""
    rng = random.Random(seed)
    last = weighted_sampler(dict(EnglishNames.last_names), rng)(size)
    male = weighted_sampler(dict(EnglishNames.first_names_male), rng)(size)
    female = weighted_sampler(dict(EnglishNames.first_names_female), rng)(size)
    span = (LAST_DOB - FIRST_DOB).days
    rows: list[Candidate] = []
    for i in range(size):
        is_male = rng.random() < 0.5
        rows.append(
            Candidate(
                first=male[i] if is_male else female[i],
                last=last[i],
                dob=FIRST_DOB + timedelta(days=rng.randrange(span))
                if rng.random() < 0.95
                else None,
                sex="M" if is_male else "F",
                person_id=f"L{i:06d}",
            )
        )
    return rows
