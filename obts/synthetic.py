"""Synthetic people and histories for demos, tests and benchmarks. Nothing here is real.

Names follow US frequencies (the weighted census-derived lists that Faker ships), with a
share of Hispanic surnames (accents included), hyphenated double surnames and
generational suffixes. People come in families that share a surname and an address.
Some carry aliases: a nickname, a maiden or former name, or a misspelling another agency
recorded — each alias with its own date of birth, sometimes a damaged one. Histories mix
arrests and court cases with charges, custody, probation or parole, protective orders,
warrants, sex offender registrations and infractions, dated relative to ``today`` so the
flags come out right.

Everything is drawn from one seeded ``random.Random``: the same seed gives the same
people.
"""

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from faker.providers.person.en_US import Provider as UsNames
from faker.providers.person.es_MX import Provider as MxNames

TOWNS = [
    ("Hartford", "06105"),
    ("New Haven", "06511"),
    ("Bridgeport", "06604"),
    ("Waterbury", "06702"),
    ("Stamford", "06901"),
    ("Norwalk", "06850"),
    ("Danbury", "06810"),
    ("New Britain", "06051"),
    ("Meriden", "06450"),
    ("Bristol", "06010"),
    ("Middletown", "06457"),
    ("Norwich", "06360"),
    ("New London", "06320"),
    ("Torrington", "06790"),
    ("Orange", "06477"),
    ("Weston", "06883"),
    ("South Windsor", "06074"),
    ("Enfield", "06082"),
]
STREETS = [
    "Main St",
    "Park Ave",
    "Elm St",
    "Maple Ave",
    "Washington St",
    "Broad St",
    "Franklin Ave",
    "Church St",
    "Prospect St",
    "Farmington Ave",
    "Stanley St",
    "Wethersfield Ave",
    "Whalley Ave",
    "Dixwell Ave",
    "Boston Post Rd",
    "Albany Ave",
]
COURTS = ["GA14", "GA23", "GA2", "GA7", "GA10", "GA15", "GA17", "GA20", "GA21"]
ARRESTING_ORIS = [
    "CT0006400",
    "CT0009300",
    "CT0001500",
    "CT0010600",
    "CT0015900",
    "CT0013100",
    "CTCSP0000",
]
FACILITIES = [
    "Hartford Correctional Center",
    "New Haven Correctional Center",
    "Bridgeport Correctional Center",
    "Corrigan-Radgowski Correctional Center",
    "York Correctional Institution",
    "MacDougall-Walker Correctional Institution",
]
OFFENSES = [
    ("53a-125b", "Larceny 6th degree", "misdemeanor_c"),
    ("53a-124", "Larceny 3rd degree", "felony_d"),
    ("53a-61", "Assault 3rd degree", "misdemeanor_a"),
    ("53a-60", "Assault 2nd degree", "felony_d"),
    ("53a-181", "Breach of peace 2nd degree", "misdemeanor_b"),
    ("53a-182", "Disorderly conduct", "misdemeanor_c"),
    ("53a-223", "Criminal violation of a protective order", "felony_d"),
    ("53a-103", "Burglary 3rd degree", "felony_d"),
    ("21a-279", "Possession of a controlled substance", "misdemeanor_a"),
    ("14-227a", "Operating under the influence", "misdemeanor_u"),
    ("14-215", "Operating under suspension", "misdemeanor_u"),
    ("53a-167a", "Interfering with an officer", "misdemeanor_a"),
    ("53a-134", "Robbery 1st degree", "felony_b"),
    ("29-38", "Weapon in a motor vehicle", "felony_d"),
]
INFRACTIONS = [
    ("14-219", "Speeding", Decimal("150.00")),
    ("14-296aa", "Using a hand-held phone while driving", Decimal("200.00")),
    ("14-299", "Failure to obey a traffic control signal", Decimal("132.00")),
    ("14-213", "Operating without a licence", Decimal("102.00")),
]
NICKNAMES = {
    "William": ["Bill", "Billy", "Will"],
    "Robert": ["Bob", "Rob", "Bobby"],
    "Richard": ["Rick", "Dick", "Rich"],
    "James": ["Jim", "Jimmy"],
    "Michael": ["Mike", "Mikey"],
    "Joseph": ["Joe", "Joey"],
    "Thomas": ["Tom", "Tommy"],
    "Christopher": ["Chris"],
    "Anthony": ["Tony"],
    "Daniel": ["Dan", "Danny"],
    "Elizabeth": ["Liz", "Beth", "Betty"],
    "Margaret": ["Peggy", "Maggie", "Meg"],
    "Katherine": ["Kate", "Kathy"],
    "Jennifer": ["Jen", "Jenny"],
    "Patricia": ["Pat", "Patty", "Trish"],
    "Rebecca": ["Becky"],
    "Deborah": ["Debbie"],
    "Michaela": ["Mickey"],
    "Alexander": ["Alex"],
    "Nicholas": ["Nick"],
}
SUFFIXES = ["Jr", "Sr", "II", "III"]
CAUTIONS = [
    "History of violence against police",
    "Known to carry a concealed weapon",
    "Assaulted an officer during a prior arrest",
]


@dataclass
class SynthName:
    first: str
    middle: str
    last: str
    suffix: str
    dob: date | None


@dataclass
class SynthPerson:
    number: int
    sex: str
    race: str
    height_in: int
    weight_lb: int
    eye_color: str
    hair_color: str
    primary: SynthName
    aliases: list[SynthName] = field(default_factory=list)
    sid: str = ""
    fbi_number: str = ""
    dl_number: str = ""
    dl_state: str = ""
    address: dict[str, str] = field(default_factory=dict)
    caution: str = ""
    cases: list[dict[str, Any]] = field(default_factory=list)
    custody: list[dict[str, Any]] = field(default_factory=list)
    supervisions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    warrants: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    infractions: list[dict[str, Any]] = field(default_factory=list)


class _Weighted:
    """Fast weighted choice over a frequency table."""

    def __init__(self, table: dict[str, float]) -> None:
        self.values = list(table)
        weights = list(table.values())
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cumulative, k=1)[0]


def _table(names: Any) -> dict[str, float]:
    if isinstance(names, dict):
        return {str(name): float(weight) for name, weight in names.items()}
    return {str(name): 1.0 for name in names}


class Generator:
    """Makes ``SynthPerson`` objects; ``today`` anchors every date."""

    def __init__(self, seed: int = 1, today: date | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        self.today = today or date(2026, 11, 23)
        self.male = _Weighted(_table(UsNames.first_names_male))
        self.female = _Weighted(_table(UsNames.first_names_female))
        self.last = _Weighted(_table(UsNames.last_names))
        self.hispanic_last = _Weighted(_table(MxNames.last_names))
        self.hispanic_male = _Weighted(_table(MxNames.first_names_male))
        self.hispanic_female = _Weighted(_table(MxNames.first_names_female))
        self._family: tuple[str, dict[str, str], int] | None = None

    # Names ----------------------------------------------------------------------------

    def _surname(self, hispanic: bool) -> str:
        rng = self.rng
        if hispanic:
            surname = self.hispanic_last.pick(rng)
            if rng.random() < 0.25:
                surname = f"{surname}-{self.hispanic_last.pick(rng)}"
            return surname
        surname = self.last.pick(rng)
        if rng.random() < 0.02:
            surname = f"{surname}-{self.last.pick(rng)}"
        return surname

    def _given(self, sex: str, hispanic: bool) -> str:
        if hispanic and self.rng.random() < 0.7:
            table = self.hispanic_male if sex == "M" else self.hispanic_female
        else:
            table = self.male if sex == "M" else self.female
        return table.pick(self.rng)

    def _dob(self, family_year: int | None) -> date:
        rng = self.rng
        if family_year is not None:
            year = family_year + rng.randint(-3, 25)
        else:
            year = self.today.year - rng.choice([rng.randint(18, 30), rng.randint(18, 70)])
        year = min(year, self.today.year - 14)
        return date(year, 1, 1) + timedelta(days=rng.randint(0, 364))

    def misspell(self, text: str) -> str:
        """One typing or hearing mistake: a dropped, doubled, swapped or changed letter."""
        rng = self.rng
        letters = [c for c in text if c.isalpha()]
        if len(letters) < 4:
            return text
        i = rng.randint(1, len(text) - 2)
        if not text[i].isalpha():
            return text
        kind = rng.choice(["drop", "double", "swap", "change"])
        if kind == "drop":
            return text[:i] + text[i + 1 :]
        if kind == "double":
            return text[:i] + text[i] + text[i:]
        if kind == "swap" and text[i + 1].isalpha():
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        replacement = rng.choice(string.ascii_lowercase)
        if text[i].isupper():
            replacement = replacement.upper()
        return text[:i] + replacement + text[i + 1 :]

    def damage_dob(self, dob: date) -> date:
        """A date of birth as someone else recorded it."""
        rng = self.rng
        kind = rng.choice(["swap", "day", "digit", "year"])
        try:
            if kind == "swap" and dob.day <= 12:
                return dob.replace(month=dob.day, day=dob.month)
            if kind == "day":
                return dob + timedelta(days=rng.choice([-1, 1]))
            if kind == "year":
                return dob.replace(year=dob.year + rng.choice([-1, 1]))
            day = dob.day % 10
            return dob.replace(
                day=max(1, dob.day - day + rng.choice([d for d in range(10) if d != day]))
            )
        except ValueError:
            return dob + timedelta(days=1)

    def _aliases(self, sex: str, primary: SynthName) -> list[SynthName]:
        """Other names the person is known by, each with the date of birth given with it:
        about one alias for every two people (a million people carry about 1.5 million
        names), as in a master name index built from many agencies' records."""
        rng = self.rng
        aliases = []
        if rng.random() < 0.45 and primary.first in NICKNAMES:
            nick = rng.choice(NICKNAMES[primary.first])
            aliases.append(SynthName(nick, "", primary.last, "", primary.dob))
        if sex == "F" and rng.random() < 0.35:
            aliases.append(SynthName(primary.first, "", self.last.pick(rng), "", primary.dob))
        if rng.random() < 0.18:
            dob = (
                self.damage_dob(primary.dob) if primary.dob and rng.random() < 0.5 else primary.dob
            )
            aliases.append(SynthName(primary.first, "", self.misspell(primary.last), "", dob))
        if rng.random() < 0.15:
            # A street name or a false identity: another given name, sometimes another
            # date of birth.
            given = self._given(sex, hispanic=False)
            dob = primary.dob
            if dob and rng.random() < 0.3:
                dob = self.damage_dob(dob)
            aliases.append(SynthName(given, "", primary.last, "", dob))
        return aliases

    # People ---------------------------------------------------------------------------

    def _address(self) -> dict[str, str]:
        town, postal = self.rng.choice(TOWNS)
        number = self.rng.randint(1, 999)
        street = self.rng.choice(STREETS)
        return {"line1": f"{number} {street}", "city": town, "state": "CT", "postal_code": postal}

    def person(self, number: int) -> SynthPerson:
        rng = self.rng
        sex = "M" if rng.random() < 0.72 else "F"
        hispanic = rng.random() < 0.17
        joins_family = self._family is not None and rng.random() < 0.3
        if self._family is not None and joins_family:
            last, address, family_year = self._family
        else:
            last = self._surname(hispanic)
            address, family_year = self._address(), None
        first = self._given(sex, hispanic)
        middle = self._given(sex, hispanic) if rng.random() < 0.5 else ""
        suffix = rng.choice(SUFFIXES) if sex == "M" and rng.random() < 0.03 else ""
        dob = self._dob(family_year)
        primary = SynthName(first, middle, last, suffix, dob)
        if not joins_family:
            # Relatives are born around the founder's parents' generation and after it.
            self._family = (last, address, dob.year - 25)
        person = SynthPerson(
            number=number,
            sex=sex,
            race=rng.choice(["W", "W", "W", "B", "B", "A", "I", "U"]),
            height_in=rng.randint(60, 76) if sex == "M" else rng.randint(58, 70),
            weight_lb=rng.randint(140, 260) if sex == "M" else rng.randint(105, 210),
            eye_color=rng.choice(["BRO", "BRO", "BLU", "HAZ", "GRN"]),
            hair_color=rng.choice(["BRO", "BLK", "BLN", "RED", "GRY"]),
            primary=primary,
            aliases=self._aliases(sex, primary),
            sid=f"CT{number + 1000000:08d}",
            fbi_number=f"{rng.randint(100000, 999999)}{rng.choice(string.ascii_uppercase)}"
            f"{rng.choice(string.ascii_uppercase)}{rng.randint(1, 9)}"
            if rng.random() < 0.6
            else "",
            dl_number=f"{rng.randint(100000000, 999999999)}" if rng.random() < 0.7 else "",
            address=address,
            caution=rng.choice(CAUTIONS) if rng.random() < 0.02 else "",
        )
        if person.dl_number:
            person.dl_state = "CT"
        self._history(person)
        return person

    def persons(self, count: int, start: int = 0) -> Iterator[SynthPerson]:
        for number in range(start, start + count):
            yield self.person(number)

    # Histories ------------------------------------------------------------------------

    def _day_in_past(self, max_days: int, min_days: int = 0) -> date:
        return self.today - timedelta(days=self.rng.randint(min_days, max_days))

    def _history(self, person: SynthPerson) -> None:
        rng = self.rng
        n = person.number
        if rng.random() < 0.35:
            for k in range(rng.choice([1, 1, 1, 2, 2, 3, 5])):
                arrest = self._day_in_past(3000)
                pending = arrest > self.today - timedelta(days=240) and rng.random() < 0.7
                charges = []
                for seq in range(1, rng.choice([1, 1, 2, 3]) + 1):
                    statute, description, klass = rng.choice(OFFENSES)
                    charges.append(
                        {
                            "sequence": seq,
                            "statute": statute,
                            "description": description,
                            "charge_class": klass,
                            "counts": 1,
                            "plea": "" if pending else rng.choice(["guilty", "not guilty", "nolo"]),
                            "disposition": ""
                            if pending
                            else rng.choice(["guilty", "nolled", "dismissed", "guilty"]),
                            "disposition_date": None
                            if pending
                            else arrest + timedelta(days=rng.randint(30, 200)),
                        }
                    )
                person.cases.append(
                    {
                        "source_id": f"CASE-{n}-{k}",
                        "docket_number": f"{rng.choice(['H', 'N', 'B'])}"
                        f"{rng.randint(10, 15):02d}-CR{arrest.year % 100:02d}-"
                        f"{rng.randint(100000, 999999)}",
                        "court_code": rng.choice(COURTS),
                        "arresting_agency_ori": rng.choice(ARRESTING_ORIS),
                        "arrest_date": arrest,
                        "arraignment_date": arrest + timedelta(days=1),
                        "next_court_date": self.today + timedelta(days=rng.randint(3, 60))
                        if pending
                        else None,
                        "status": "pending" if pending else "disposed",
                        "bail_amount": Decimal(rng.choice([0, 500, 1000, 5000, 25000]))
                        if pending and rng.random() < 0.5
                        else None,
                        "release_conditions": "No contact with the victim"
                        if pending and rng.random() < 0.3
                        else "",
                        "is_juvenile": (arrest - (person.primary.dob or arrest)).days < 18 * 365,
                        "is_sealed": rng.random() < 0.01,
                        "charges": charges,
                    }
                )
        if person.cases and rng.random() < 0.35:
            admitted = self._day_in_past(1500, 10)
            released = (
                None
                if rng.random() < 0.3
                else min(self.today, admitted + timedelta(days=rng.randint(5, 900)))
            )
            person.custody.append(
                {
                    "source_id": f"CUST-{n}",
                    "facility": rng.choice(FACILITIES),
                    "inmate_number": f"{rng.randint(100000, 999999)}",
                    "admission_type": rng.choice(["new arrest", "remand", "sentenced"]),
                    "custody_status": rng.choice(["pretrial", "sentenced"]),
                    "admitted_on": admitted,
                    "released_on": released,
                    "release_type": ""
                    if released is None
                    else rng.choice(["end of sentence", "bond posted", "parole", "transfer"]),
                }
            )
        if person.cases and rng.random() < 0.25:
            start = self._day_in_past(1200, 5)
            kind = rng.choice(["probation", "probation", "parole", "special_parole"])
            active = rng.random() < 0.6
            person.supervisions.append(
                {
                    "source_id": f"SUP-{n}",
                    "kind": kind,
                    "officer_name": f"Officer {self.last.pick(rng)}",
                    "office": rng.choice(TOWNS)[0],
                    "start_date": start,
                    "end_date": None if active else start + timedelta(days=rng.randint(180, 730)),
                    "status": "active" if active else rng.choice(["completed", "revoked"]),
                    "conditions": "Report weekly; no alcohol",
                    "violations": [],
                }
            )
        if rng.random() < 0.04:
            issued = self._day_in_past(700)
            person.orders.append(
                {
                    "source_id": f"PO-{n}",
                    "kind": rng.choice(["protective", "restraining", "standing criminal"]),
                    "order_number": f"PO{rng.randint(100000, 999999)}",
                    "issuing_court": rng.choice(COURTS),
                    "protected_party": f"{self._given('F', False)} {self.last.pick(rng)}",
                    "conditions": "No contact; stay 100 yards away",
                    "issued_on": issued,
                    "expires_on": issued + timedelta(days=rng.choice([180, 365, 730])),
                    "status": "active",
                }
            )
        if rng.random() < 0.03:
            person.warrants.append(
                {
                    "source_id": f"WAR-{n}",
                    "kind": rng.choice(["paperless re-arrest", "arrest", "bench"]),
                    "warrant_number": f"W{rng.randint(100000, 999999)}",
                    "issued_on": self._day_in_past(400),
                    "court": rng.choice(COURTS),
                    "offense": rng.choice(OFFENSES)[1],
                    "status": "active" if rng.random() < 0.6 else "served",
                }
            )
        if rng.random() < 0.01:
            registered = self._day_in_past(3000)
            person.registrations.append(
                {
                    "source_id": f"SOR-{n}",
                    "registered_on": registered,
                    "term": rng.choice(["10 years", "life"]),
                    "term_ends_on": None,
                    "compliance_status": rng.choice(["compliant", "compliant", "non_compliant"]),
                }
            )
        if rng.random() < 0.15:
            statute, description, amount = rng.choice(INFRACTIONS)
            person.infractions.append(
                {
                    "source_id": f"CIB-{n}",
                    "ticket_number": f"T{rng.randint(1000000, 9999999)}",
                    "offense_date": self._day_in_past(900),
                    "statute": statute,
                    "description": description,
                    "amount": amount,
                    "status": rng.choice(["open", "paid", "paid"]),
                }
            )
