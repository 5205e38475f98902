"""The definitions of obts.status: each flag, its boundaries, and the status priority."""

import importlib
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from pytest_django.fixtures import Settings as SettingsWrapper

from obts.models import (
    Case,
    CaseStatus,
    ComplianceStatus,
    CustodyPeriod,
    CustodyStatus,
    Flag,
    OrderStatus,
    Person,
    PersonStatus,
    ProtectiveOrder,
    Registration,
    Supervision,
    SupervisionKind,
    SupervisionStatus,
    Warrant,
    WarrantStatus,
)
from obts.services.status_refresh import persons_refresh
from obts.status import (
    Facts,
    compute_flags,
    compute_restricted_views,
    compute_status,
    person_recompute,
)
from tests.obts.factories_records import CaseFactory, PersonFactory, WarrantFactory

TODAY = date(2026, 3, 15)
NOTHING = Facts(
    caution="", cases=[], custody=[], supervisions=[], orders=[], warrants=[], registrations=[]
)


def flags(facts: Facts, today: date = TODAY) -> list[str]:
    return compute_flags(facts, today)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def case(**fields: object) -> Case:
    return Case(docket_number="D-1", **fields)


def custody(**fields: object) -> CustodyPeriod:
    defaults: dict[str, object] = {
        "facility": "HCC",
        "custody_status": CustodyStatus.PRETRIAL,
        "admitted_on": days_ago(100),
    }
    return CustodyPeriod(**(defaults | fields))


def supervision(kind: str, status: str = SupervisionStatus.ACTIVE) -> Supervision:
    return Supervision(kind=kind, status=status, start_date=days_ago(100))


def order(**fields: object) -> ProtectiveOrder:
    return ProtectiveOrder(**({"kind": "protective", "issued_on": days_ago(10)} | fields))


def registration(**fields: object) -> Registration:
    return Registration(**({"registered_on": days_ago(1000), "term": "10 years"} | fields))


def test_nothing_gives_no_flags() -> None:
    assert flags(NOTHING) == []


# wanted


def test_active_warrant_makes_the_person_wanted() -> None:
    warrant = Warrant(kind="arrest", issued_on=days_ago(3), status=WarrantStatus.ACTIVE)
    assert Flag.WANTED in flags(replace(NOTHING, warrants=[warrant]))


@pytest.mark.parametrize("status", [WarrantStatus.SERVED, WarrantStatus.VACATED])
def test_served_or_vacated_warrant_does_not_make_the_person_wanted(status: str) -> None:
    warrant = Warrant(kind="arrest", issued_on=days_ago(3), status=status)
    assert Flag.WANTED not in flags(replace(NOTHING, warrants=[warrant]))


# officer_caution


def test_caution_text_sets_officer_caution() -> None:
    assert flags(replace(NOTHING, caution="Violent toward police")) == [Flag.OFFICER_CAUTION]


def test_blank_caution_does_not_set_officer_caution() -> None:
    assert flags(replace(NOTHING, caution="  \n")) == []


# protective_order


def test_order_expiring_today_still_counts() -> None:
    facts = replace(NOTHING, orders=[order(expires_on=TODAY)])
    assert Flag.PROTECTIVE_ORDER in flags(facts)


def test_order_that_expired_yesterday_does_not_count() -> None:
    facts = replace(NOTHING, orders=[order(expires_on=days_ago(1))])
    assert Flag.PROTECTIVE_ORDER not in flags(facts)


def test_order_without_expiry_counts() -> None:
    assert Flag.PROTECTIVE_ORDER in flags(replace(NOTHING, orders=[order(expires_on=None)]))


@pytest.mark.parametrize("status", [OrderStatus.VACATED, OrderStatus.EXPIRED])
def test_vacated_or_expired_order_does_not_count(status: str) -> None:
    facts = replace(NOTHING, orders=[order(status=status, expires_on=None)])
    assert Flag.PROTECTIVE_ORDER not in flags(facts)


# sex_offender


def test_registration_whose_term_ends_today_counts() -> None:
    facts = replace(NOTHING, registrations=[registration(term_ends_on=TODAY)])
    assert Flag.SEX_OFFENDER in flags(facts)


def test_registration_whose_term_ended_yesterday_does_not_count() -> None:
    facts = replace(NOTHING, registrations=[registration(term_ends_on=days_ago(1))])
    assert Flag.SEX_OFFENDER not in flags(facts)


def test_non_compliant_registrant_is_still_a_sex_offender() -> None:
    facts = replace(
        NOTHING, registrations=[registration(compliance_status=ComplianceStatus.NON_COMPLIANT)]
    )
    assert Flag.SEX_OFFENDER in flags(facts)


def test_inactive_registration_does_not_count() -> None:
    facts = replace(
        NOTHING, registrations=[registration(compliance_status=ComplianceStatus.INACTIVE)]
    )
    assert Flag.SEX_OFFENDER not in flags(facts)


# parole / probation


@pytest.mark.parametrize("kind", [SupervisionKind.PAROLE, SupervisionKind.SPECIAL_PAROLE])
def test_active_parole_or_special_parole_sets_parole(kind: str) -> None:
    assert flags(replace(NOTHING, supervisions=[supervision(kind)])) == [Flag.PAROLE]


def test_active_probation_sets_probation() -> None:
    facts = replace(NOTHING, supervisions=[supervision(SupervisionKind.PROBATION)])
    assert flags(facts) == [Flag.PROBATION]


@pytest.mark.parametrize(
    "status",
    [SupervisionStatus.COMPLETED, SupervisionStatus.REVOKED, SupervisionStatus.ABSCONDED],
)
def test_supervision_that_is_not_active_sets_nothing(status: str) -> None:
    facts = replace(NOTHING, supervisions=[supervision(SupervisionKind.PROBATION, status)])
    assert flags(facts) == []


# recently_arrested


def test_arrest_30_days_ago_is_recent() -> None:
    facts = replace(NOTHING, cases=[case(arrest_date=days_ago(30), status=CaseStatus.DISPOSED)])
    assert flags(facts) == [Flag.RECENTLY_ARRESTED]


def test_arrest_31_days_ago_is_not_recent() -> None:
    facts = replace(NOTHING, cases=[case(arrest_date=days_ago(31), status=CaseStatus.DISPOSED)])
    assert flags(facts) == []


def test_recent_window_follows_the_setting(settings: SettingsWrapper) -> None:
    settings.OBTS_RECENT_DAYS = 7
    facts = replace(NOTHING, cases=[case(arrest_date=days_ago(8), status=CaseStatus.DISPOSED)])
    assert flags(facts) == []


# recently_released


def test_release_30_days_ago_is_recent() -> None:
    facts = replace(NOTHING, custody=[custody(released_on=days_ago(30))])
    assert flags(facts) == [Flag.RECENTLY_RELEASED]


def test_release_31_days_ago_is_not_recent() -> None:
    facts = replace(NOTHING, custody=[custody(released_on=days_ago(31))])
    assert flags(facts) == []


def test_released_recently_but_in_custody_again_is_not_recently_released() -> None:
    facts = replace(
        NOTHING,
        custody=[
            custody(released_on=days_ago(10)),
            custody(admitted_on=days_ago(2), released_on=None),
        ],
    )
    assert Flag.RECENTLY_RELEASED not in flags(facts)


# pending_case / bail_conditions


def test_pending_case_sets_pending_case() -> None:
    facts = replace(NOTHING, cases=[case(status=CaseStatus.PENDING)])
    assert flags(facts) == [Flag.PENDING_CASE]


def test_pending_case_with_bail_sets_bail_conditions() -> None:
    facts = replace(NOTHING, cases=[case(status=CaseStatus.PENDING, bail_amount=Decimal(500))])
    assert flags(facts) == [Flag.PENDING_CASE, Flag.BAIL_CONDITIONS]


def test_pending_case_with_release_conditions_sets_bail_conditions() -> None:
    facts = replace(
        NOTHING, cases=[case(status=CaseStatus.PENDING, release_conditions="No contact")]
    )
    assert Flag.BAIL_CONDITIONS in flags(facts)


def test_bail_on_a_disposed_case_sets_nothing() -> None:
    facts = replace(NOTHING, cases=[case(status=CaseStatus.DISPOSED, bail_amount=Decimal(500))])
    assert flags(facts) == []


# order


def test_wanted_comes_first() -> None:
    facts = replace(
        NOTHING,
        caution="Armed",
        cases=[case(status=CaseStatus.PENDING, arrest_date=days_ago(1))],
        warrants=[Warrant(kind="arrest", issued_on=days_ago(3), status=WarrantStatus.ACTIVE)],
    )
    assert flags(facts) == [
        Flag.WANTED,
        Flag.OFFICER_CAUTION,
        Flag.RECENTLY_ARRESTED,
        Flag.PENDING_CASE,
    ]


# status priority


def test_status_without_records_is_no_active_involvement() -> None:
    assert compute_status(NOTHING) == PersonStatus.NO_ACTIVE_INVOLVEMENT


def test_sentenced_custody_outranks_pretrial_custody() -> None:
    facts = replace(
        NOTHING,
        custody=[
            custody(released_on=None),
            custody(released_on=None, custody_status=CustodyStatus.SENTENCED),
        ],
    )
    assert compute_status(facts) == PersonStatus.INCARCERATED_SENTENCED


def test_pretrial_custody_outranks_parole() -> None:
    facts = replace(
        NOTHING,
        custody=[custody(released_on=None)],
        supervisions=[supervision(SupervisionKind.PAROLE)],
    )
    assert compute_status(facts) == PersonStatus.INCARCERATED_PRETRIAL


def test_parole_outranks_probation() -> None:
    facts = replace(
        NOTHING,
        supervisions=[supervision(SupervisionKind.PROBATION), supervision(SupervisionKind.PAROLE)],
    )
    assert compute_status(facts) == PersonStatus.ON_PAROLE


def test_probation_outranks_pending_cases() -> None:
    facts = replace(
        NOTHING,
        cases=[case(status=CaseStatus.PENDING)],
        supervisions=[supervision(SupervisionKind.PROBATION)],
    )
    assert compute_status(facts) == PersonStatus.ON_PROBATION


def test_pending_cases_outrank_released() -> None:
    facts = replace(
        NOTHING, cases=[case(status=CaseStatus.PENDING)], custody=[custody(released_on=days_ago(5))]
    )
    assert compute_status(facts) == PersonStatus.PRETRIAL


def test_past_custody_with_nothing_active_is_released() -> None:
    facts = replace(NOTHING, custody=[custody(released_on=days_ago(500))])
    assert compute_status(facts) == PersonStatus.RELEASED


# stored


@pytest.mark.django_db
def test_recompute_stores_flags_and_status_and_reports_the_change() -> None:
    person = PersonFactory.create()
    WarrantFactory.create(person=person)
    assert person_recompute(person, today=TODAY)
    person.refresh_from_db()
    assert person.flags == [Flag.WANTED]
    assert person.status_computed_at is not None


@pytest.mark.django_db
def test_recompute_without_change_reports_none() -> None:
    person = PersonFactory.create()
    person_recompute(person, today=TODAY)
    assert not person_recompute(person, today=TODAY)


# restricted views: what a reader who may not see juvenile or sealed cases sees


def test_without_juvenile_or_sealed_cases_every_reader_sees_the_same() -> None:
    facts = replace(NOTHING, cases=[case(status=CaseStatus.PENDING)])
    assert compute_restricted_views(facts, TODAY) == {}


def test_a_sealed_pending_case_is_gone_for_readers_who_may_not_see_sealed_cases() -> None:
    facts = replace(
        NOTHING,
        cases=[case(status=CaseStatus.PENDING, is_sealed=True, arrest_date=days_ago(3))],
        warrants=[Warrant(status=WarrantStatus.ACTIVE)],
    )
    assert flags(facts) == [Flag.WANTED, Flag.RECENTLY_ARRESTED, Flag.PENDING_CASE]
    views = compute_restricted_views(facts, TODAY)
    # "j" (juvenile hidden, sealed seen) hides nothing here, so it is not stored.
    assert views == {
        "s": [PersonStatus.NO_ACTIVE_INVOLVEMENT, [Flag.WANTED]],
        "js": [PersonStatus.NO_ACTIVE_INVOLVEMENT, [Flag.WANTED]],
    }


def test_juvenile_and_sealed_cases_are_hidden_each_by_its_own_key() -> None:
    facts = replace(
        NOTHING,
        cases=[
            case(status=CaseStatus.PENDING, is_juvenile=True),
            case(status=CaseStatus.PENDING, is_sealed=True, bail_amount=Decimal("500")),
        ],
    )
    views = compute_restricted_views(facts, TODAY)
    pending = [PersonStatus.PRETRIAL, [Flag.PENDING_CASE]]
    assert views["j"] == [PersonStatus.PRETRIAL, [Flag.PENDING_CASE, Flag.BAIL_CONDITIONS]]
    assert views["s"] == pending
    assert views["js"] == [PersonStatus.NO_ACTIVE_INVOLVEMENT, []]


@pytest.mark.django_db
def test_recompute_and_intake_refresh_store_the_restricted_views() -> None:
    person = PersonFactory.create()
    CaseFactory.create(person=person, status=CaseStatus.PENDING, is_juvenile=True)
    assert person_recompute(person, today=TODAY)
    person.refresh_from_db()
    assert person.flags == [Flag.PENDING_CASE]
    assert person.restricted_views == {
        "j": [PersonStatus.NO_ACTIVE_INVOLVEMENT, []],
        "js": [PersonStatus.NO_ACTIVE_INVOLVEMENT, []],
    }
    CaseFactory.create(person=person, status=CaseStatus.PENDING)
    persons_refresh([person.pk])
    person.refresh_from_db()
    assert person.restricted_views == {
        "j": [PersonStatus.PRETRIAL, [Flag.PENDING_CASE]],
        "js": [PersonStatus.PRETRIAL, [Flag.PENDING_CASE]],
    }


@pytest.mark.django_db
def test_a_person_without_hidden_cases_stores_an_empty_view() -> None:
    person = PersonFactory.create()
    person_recompute(person, today=TODAY)
    person.refresh_from_db()
    assert person.restricted_views == {}


@pytest.mark.django_db
def test_the_migration_fills_the_restricted_views_of_persons_on_file() -> None:
    fill = importlib.import_module("obts.migrations.0007_person_restricted_views")
    plain_person = PersonFactory.create()
    sealed_person = PersonFactory.create()
    CaseFactory.create(person=sealed_person, status=CaseStatus.PENDING, is_sealed=True)
    Person.objects.update(restricted_views=None)
    fill.fill_restricted_views(django_apps, None)
    plain_person.refresh_from_db()
    sealed_person.refresh_from_db()
    assert plain_person.restricted_views == {}
    assert sealed_person.restricted_views == {
        "s": [PersonStatus.NO_ACTIVE_INVOLVEMENT, []],
        "js": [PersonStatus.NO_ACTIVE_INVOLVEMENT, []],
    }
