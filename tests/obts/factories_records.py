# mypy: disallow-untyped-calls=False
"""factory_boy factories for OBTS persons and their records. Call ``XFactory.create(...)``
for a typed result; ``heavy_person()`` builds the benchmark-sized record of the issue."""

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import factory
from factory.declarations import PostGeneration, Sequence, SubFactory

from obts.models import (
    Case,
    CaseStatus,
    Charge,
    ChargeClass,
    CustodyPeriod,
    CustodyStatus,
    IdentifierKind,
    Infraction,
    Person,
    PersonIdentifier,
    PersonName,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    SupervisionKind,
    Warrant,
)
from obts.timecalc import person_sentences_recalculate
from portal.models import Agency, User
from portal.roles import Role
from tests.factories import UserFactory, add_totp_device

AS_OF = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _primary_name(person: Person, create: bool, extracted: str | None, **kwargs: Any) -> None:
    """``name="First Last"`` (default "Jordan Doe"); ``dob=date(...)`` as a kwarg."""
    if not create:
        return
    first, _, last = (extracted or "Jordan Doe").rpartition(" ")
    PersonName.objects.create(
        person=person,
        is_primary=True,
        first_name=first,
        last_name=last,
        dob=kwargs.get("dob", date(1985, 11, 11)),
    )


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    """A person with a primary name: ``PersonFactory.create(name="Ann Lee",
    name__dob=date(...))``; ``name=None`` gives the default name."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    sex = "M"
    race = "W"
    name = PostGeneration(_primary_name)


class SourceFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        abstract = True

    source_system = "TEST"
    source_id = Sequence(lambda n: f"T-{n}")
    as_of = AS_OF


class CaseFactory(SourceFactory):
    class Meta:
        model = Case

    person = SubFactory(PersonFactory)
    source_system = "JUD-CRIM"
    docket_number = Sequence(lambda n: f"H14H-CR25-{n:07d}")
    court_code = "GA14"
    arresting_agency_ori = "CT0006400"
    arrest_date = date(2025, 2, 1)
    status = CaseStatus.DISPOSED


class ChargeFactory(factory.django.DjangoModelFactory[Charge]):
    class Meta:
        model = Charge

    case = SubFactory(CaseFactory)
    sequence = Sequence(lambda n: n % 50 + 1)
    statute = "53a-125b"
    description = "Larceny 6th degree"
    charge_class = ChargeClass.MISDEMEANOR_C
    plea = "Guilty"
    disposition = "Guilty"
    disposition_date = date(2025, 3, 1)


class SentenceFactory(SourceFactory):
    class Meta:
        model = Sentence

    person = SubFactory(PersonFactory)
    case = None
    source_system = "JUD-CRIM"
    imposed_on = date(2025, 3, 1)


class CustodyFactory(SourceFactory):
    class Meta:
        model = CustodyPeriod

    person = SubFactory(PersonFactory)
    source_system = "DOC"
    facility = "Hartford Correctional Center"
    inmate_number = Sequence(lambda n: f"{300000 + n}")
    admission_type = "Remand"
    custody_status = CustodyStatus.PRETRIAL
    admitted_on = date(2025, 2, 1)
    released_on = date(2025, 3, 1)


class SupervisionFactory(SourceFactory):
    class Meta:
        model = Supervision

    person = SubFactory(PersonFactory)
    source_system = "CSSD"
    kind = SupervisionKind.PROBATION
    officer_name = "Dana Officer"
    start_date = date(2025, 3, 2)


class ProtectiveOrderFactory(SourceFactory):
    class Meta:
        model = ProtectiveOrder

    person = SubFactory(PersonFactory)
    source_system = "JUD-PO"
    kind = "protective"
    issuing_court = "GA14"
    protected_party = "A. Person"
    issued_on = date(2025, 2, 2)


class WarrantFactory(SourceFactory):
    class Meta:
        model = Warrant

    person = SubFactory(PersonFactory)
    source_system = "JUD-WAR"
    kind = "paperless re-arrest"
    issued_on = date(2025, 4, 1)
    court = "GA14"
    offense = "Failure to appear"


class RegistrationFactory(SourceFactory):
    class Meta:
        model = Registration

    person = SubFactory(PersonFactory)
    source_system = "SOR"
    registered_on = date(2020, 1, 1)
    term = "10 years"
    term_ends_on = date(2030, 1, 1)


class InfractionFactory(SourceFactory):
    class Meta:
        model = Infraction

    person = SubFactory(PersonFactory)
    source_system = "CIB"
    ticket_number = Sequence(lambda n: f"CIB{n:08d}")
    offense_date = date(2024, 7, 4)
    statute = "14-219"
    description = "Speeding"
    amount = Decimal("150.00")
    status = "paid"


def identifier(person: Person, kind: str = IdentifierKind.SID, value: str = "CT1234567") -> None:
    PersonIdentifier.objects.create(person=person, kind=kind, value=value)


def heavy_person(*, cases: int = 20, charges_per_case: int = 3) -> Person:
    """A person with a long history: 20 cases of 3 charges each (60), a sentence per
    case (every fourth consecutive to the one before), custody and supervision history,
    orders, warrants, a registration, infractions, aliases, identifiers and addresses."""
    person = PersonFactory.create(name="Morgan Heavy", caution="Known to resist arrest")
    for alias in ("Mo Heavy", "Morgan Hevy", "Morgan Heavey"):
        first, last = alias.split(" ")
        PersonName.objects.create(
            person=person, first_name=first, last_name=last, dob=date(1985, 11, 12)
        )
    identifier(person, IdentifierKind.SID, "CT7654321")
    identifier(person, IdentifierKind.FBI, "123456AB7")
    identifier(person, IdentifierKind.DOC_NUMBER, "301234")
    for index in range(3):
        person.addresses.create(
            line1=f"{10 + index} Main St", city="Hartford", state="CT", postal_code="06105"
        )
    start = date(2010, 1, 15)
    previous: Sentence | None = None
    for index in range(cases):
        day = start + timedelta(days=200 * index)
        case = CaseFactory.create(
            person=person,
            arrest_date=day,
            arraignment_date=day + timedelta(days=1),
            status=CaseStatus.PENDING if index == cases - 1 else CaseStatus.DISPOSED,
        )
        for number in range(charges_per_case):
            ChargeFactory.create(
                case=case, sequence=number + 1, disposition_date=day + timedelta(days=60)
            )
        previous = SentenceFactory.create(
            person=person,
            case=case,
            imposed_on=day + timedelta(days=60),
            incarceration_days=365,
            suspended_days=200,
            jail_credit_days=10,
            probation_days=365,
            relation="consecutive" if index % 4 == 3 else "concurrent",
            consecutive_to=previous if index % 4 == 3 else None,
        )
        CustodyFactory.create(person=person, admitted_on=day, released_on=day + timedelta(days=30))
        InfractionFactory.create(person=person, offense_date=day + timedelta(days=5))
    for index in range(4):
        SupervisionFactory.create(
            person=person,
            start_date=start + timedelta(days=400 * index),
            end_date=start + timedelta(days=400 * index + 365),
            status="completed",
            violations=[{"date": "2012-05-01", "description": "Missed appointment"}],
        )
    for index in range(3):
        ProtectiveOrderFactory.create(person=person, issued_on=start + timedelta(days=300 * index))
        WarrantFactory.create(
            person=person,
            issued_on=start + timedelta(days=500 * index),
            status="served",
            served_on=start + timedelta(days=500 * index + 20),
        )
    WarrantFactory.create(person=person, issued_on=date(2025, 6, 1))
    RegistrationFactory.create(person=person)
    person_sentences_recalculate(person)
    return person


@dataclass
class Subject:
    """A person whose record holds something of every category, and the records that
    must be hidden from readers without the juvenile or sealed claims."""

    person: Person
    adult_case: Case
    juvenile_case: Case
    sealed_case: Case
    adult_sentence: Sentence
    sealed_sentence: Sentence
    warrant: Warrant
    registration: Registration


def subject_with_every_kind_of_record() -> Subject:
    person = PersonFactory.create(
        name="Casey Subject",
        sex="F",
        height_in=66,
        weight_lb=140,
        eye_color="BRO",
        hair_color="BLK",
        scars_marks_tattoos="Rose tattoo, left forearm",
        caution="History of violence against police",
    )
    PersonName.objects.create(
        person=person, first_name="KC", last_name="Subjekt", dob=date(1990, 2, 3)
    )
    identifier(person, IdentifierKind.SID, "CT5550001")
    person.addresses.create(line1="8 Stanley St", city="Hartford", state="CT")
    adult = CaseFactory.create(
        person=person, docket_number="ADULT-0001", arrest_date=date(2025, 1, 10)
    )
    ChargeFactory.create(case=adult, statute="53a-125b", disposition_date=date(2025, 3, 1))
    juvenile = CaseFactory.create(
        person=person,
        docket_number="JUVENILE-0001",
        is_juvenile=True,
        arrest_date=date(2024, 5, 5),
    )
    ChargeFactory.create(case=juvenile, statute="JUV-53a-1")
    sealed = CaseFactory.create(
        person=person, docket_number="SEALED-0001", is_sealed=True, arrest_date=date(2023, 4, 4)
    )
    ChargeFactory.create(case=sealed, statute="SEALED-53a-2")
    sealed_sentence = SentenceFactory.create(
        person=person, case=sealed, imposed_on=date(2023, 6, 1), incarceration_days=100
    )
    adult_sentence = SentenceFactory.create(
        person=person,
        case=adult,
        imposed_on=date(2025, 3, 1),
        incarceration_days=1096,
        suspended_days=365,
        jail_credit_days=45,
        probation_days=731,
    )
    CustodyFactory.create(person=person, facility="Hartford Correctional Center")
    SupervisionFactory.create(person=person, officer_name="Dana Officer")
    ProtectiveOrderFactory.create(person=person, protected_party="J. Protected")
    warrant = WarrantFactory.create(person=person, warrant_number="W-0001")
    registration = RegistrationFactory.create(person=person, term="10 years")
    InfractionFactory.create(person=person, ticket_number="CIB00000001")
    person_sentences_recalculate(person)
    adult_sentence.refresh_from_db()
    sealed_sentence.refresh_from_db()
    return Subject(
        person=person,
        adult_case=adult,
        juvenile_case=juvenile,
        sealed_case=sealed,
        adult_sentence=adult_sentence,
        sealed_sentence=sealed_sentence,
        warrant=warrant,
        registration=registration,
    )


def cj_user(
    username: str,
    agency: Agency,
    *,
    roles: Seq[str] | None = None,
    claims: Seq[str] = (),
) -> User:
    """A signed-in-ready user (with an authenticator) of ``agency``."""
    user = UserFactory.create(
        username=username,
        agency=agency,
        roles=[Role.OFFICER] if roles is None else list(roles),
        claims=list(claims),
    )
    add_totp_device(user)
    return user


__all__ = [
    "AS_OF",
    "CaseFactory",
    "ChargeFactory",
    "CustodyFactory",
    "InfractionFactory",
    "PersonFactory",
    "ProtectiveOrderFactory",
    "RegistrationFactory",
    "SentenceFactory",
    "Subject",
    "SupervisionFactory",
    "WarrantFactory",
    "cj_user",
    "heavy_person",
    "identifier",
    "subject_with_every_kind_of_record",
]
