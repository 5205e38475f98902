"""Routing rules and court locations as CJIS staff manage them: who may, the form's
checks, that a saved rule changes who receives the next exchange, that an inactive rule
routes nothing, the audit rows, and the "Who would receive?" preview."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from ciss.exchanges import rules
from ciss.models import CourtLocation, Delivery, Exchange, RoutingRule, RoutingTarget
from portal.models import Agency, AgencyKind, AuditEvent, User
from portal.roles import Claim, Role
from tests.ciss.exchange_factories import Court, court_setup, notice, submit
from tests.factories import AgencyFactory, UserFactory, add_totp_device

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
CLERKS_RULE = "Early arrest notice to the arraignment court's clerks"
PROSECUTOR_RULE = "Early arrest notice to the state's attorney"


@pytest.fixture
def security(db: None) -> User:
    cjis = AgencyFactory.create(ori="CTCJIS000", name="CJIS", kind=AgencyKind.CJIS)
    user = UserFactory.create(username="security", agency=cjis, roles=[Role.CJIS_SECURITY])
    add_totp_device(user)
    return user


@pytest.fixture
def court() -> Court:
    return court_setup()


def rule_named(name: str) -> RoutingRule:
    return RoutingRule.objects.get(name=name)


def form_data(rule: RoutingRule | None = None, **changes: Any) -> dict[str, Any]:
    """The rule form's fields as a browser posts them (a rule's own values, if given)."""
    data: dict[str, Any] = {
        "name": "Early arrest notice to probation",
        "exchange_type": "early_arrest_notice",
        "court_code": "",
        "town": "",
        "sending_agency": "",
        "target": RoutingTarget.AGENCY,
        "agency": "",
        "role": Role.PROBATION,
        "required_claim": "",
    }
    if rule is not None:
        data.update(
            name=rule.name,
            exchange_type=rule.exchange_type,
            court_code=rule.court_code,
            town=rule.town,
            sending_agency=rule.sending_agency_id or "",
            target=rule.target,
            agency=rule.agency_id or "",
            role=rule.role,
            required_claim=rule.required_claim,
        )
    data.update(changes)
    return data


def recipients_of_next_notice(setup: Court, client: Client, **changes: Any) -> set[str]:
    """Submit an early arrest notice (delivered: ``submit`` runs what it queued on commit)
    and name who it was routed to."""
    answer = submit(client, setup.key, notice(**changes))
    assert answer.status_code == 202, answer.content
    exchange = Exchange.objects.get(public_id=answer.json()["id"])
    return set(
        Delivery.objects.filter(exchange=exchange).values_list("recipient__username", flat=True)
    )


# ---------------------------------------------------------------------------------------
# Who may

PAGES = [
    "ciss:routing_rules",
    "ciss:routing_rule_create",
    "ciss:routing_preview",
    "ciss:court_locations",
    "ciss:court_location_create",
]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", PAGES)
def test_outsider_cannot_see_routing_pages(signed_in: SignIn, outsider: User, name: str) -> None:
    assert signed_in(outsider).get(reverse(name)).status_code == 403


def test_help_desk_cannot_manage_routing(signed_in: SignIn, helpdesk: User) -> None:
    assert signed_in(helpdesk).get(reverse("ciss:routing_rules")).status_code == 403


def test_outsider_cannot_deactivate_a_rule(signed_in: SignIn, outsider: User, court: Court) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_deactivate", args=[rule.public_id])
    assert signed_in(outsider).post(url).status_code == 403
    assert rule_named(CLERKS_RULE).is_active


def test_outsider_cannot_edit_a_rule(signed_in: SignIn, outsider: User, court: Court) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_edit", args=[rule.public_id])
    response = signed_in(outsider).post(url, form_data(rule, name="Changed"))
    assert response.status_code == 403
    assert rule_named(CLERKS_RULE).name == CLERKS_RULE


@pytest.mark.parametrize("fixture", ["security", "administrator"])
def test_cjis_staff_see_the_rules_in_words(
    signed_in: SignIn, court: Court, request: pytest.FixtureRequest, fixture: str
) -> None:
    user = request.getfixturevalue(fixture)
    response = signed_in(user).get(reverse("ciss:routing_rules"))
    assert response.status_code == 200
    page = response.content.decode()
    assert CLERKS_RULE.replace("'", "&#x27;") in page
    assert "People with the role Court clerk at the court of the exchange&#x27;s court" in page
    assert "who also hold the claim “Receives arrest notices”" in page
    assert "Early arrest notices for any court, from any town, sent by any agency." in page


def test_rules_can_be_filtered_by_type_and_status(
    signed_in: SignIn, security: User, court: Court
) -> None:
    RoutingRule.objects.filter(name=PROSECUTOR_RULE).update(is_active=False)
    response = signed_in(security).get(
        reverse("ciss:routing_rules"), {"exchange_type": "early_arrest_notice", "status": "active"}
    )
    page = response.content.decode()
    assert "arraignment court&#x27;s clerks" in page
    assert "to the state&#x27;s attorney" not in page
    assert 'data-exchange-type="infraction"' not in page


def test_rules_list_query_count_does_not_grow_with_rules(
    signed_in: SignIn, security: User, court: Court, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(security)
    for number in range(10):
        RoutingRule.objects.create(
            name=f"Extra {number}",
            target=RoutingTarget.AGENCY,
            agency=court.court,
            sending_agency=court.police,
            role=Role.COURT_CLERK,
        )
    with django_assert_max_num_queries(12):
        assert client.get(reverse("ciss:routing_rules")).status_code == 200


def test_rules_list_refuses_post(signed_in: SignIn, security: User) -> None:
    assert signed_in(security).post(reverse("ciss:routing_rules")).status_code == 405


def test_deactivate_refuses_get(signed_in: SignIn, security: User, court: Court) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_deactivate", args=[rule.public_id])
    assert signed_in(security).get(url).status_code == 405
    assert rule_named(CLERKS_RULE).is_active


def test_edit_refuses_put(signed_in: SignIn, security: User, court: Court) -> None:
    url = reverse("ciss:routing_rule_edit", args=[rule_named(CLERKS_RULE).public_id])
    assert signed_in(security).put(url).status_code == 405


def test_editing_an_unknown_rule_is_404(signed_in: SignIn, security: User) -> None:
    url = reverse("ciss:routing_rule_edit", args=["5a1d1c83-8a43-4c0e-9e2e-000000000000"])
    assert signed_in(security).get(url).status_code == 404


# ---------------------------------------------------------------------------------------
# The form's checks


def test_named_agency_target_without_agency_is_a_field_error(
    signed_in: SignIn, security: User, court: Court
) -> None:
    response = signed_in(security).post(reverse("ciss:routing_rule_create"), form_data())
    assert response.status_code == 200
    assert response.context["form"].errors["agency"] == [rules.AGENCY_NEEDED]
    assert not RoutingRule.objects.filter(name="Early arrest notice to probation").exists()


def test_agency_given_for_another_target_is_a_field_error(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = form_data(target=RoutingTarget.COURT, agency=court.court.pk)
    response = signed_in(security).post(reverse("ciss:routing_rule_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["agency"] == [rules.AGENCY_NOT_USED]


def test_unknown_court_code_is_a_field_error(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = form_data(target=RoutingTarget.COURT, court_code="ga99")
    response = signed_in(security).post(reverse("ciss:routing_rule_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["court_code"] == [rules.unknown_court_message("GA99")]
    assert b"No court location has the code GA99" in response.content


def test_missing_name_and_role_are_field_errors(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = form_data(name="", role="", agency=court.court.pk)
    response = signed_in(security).post(reverse("ciss:routing_rule_create"), data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "role"}


def test_claim_is_optional_and_court_code_is_kept_in_capitals(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = form_data(court_code=" ga14 ", agency=court.court.pk, role=Role.COURT_CLERK)
    response = signed_in(security).post(reverse("ciss:routing_rule_create"), data)
    assert response.status_code == 302
    rule = rule_named("Early arrest notice to probation")
    assert (rule.court_code, rule.required_claim, rule.updated_by) == ("GA14", "", security)


def test_the_service_refuses_an_agency_the_target_does_not_use(
    security: User, court: Court
) -> None:
    rule = RoutingRule(
        name="Wrong", target=RoutingTarget.COURT, agency=court.court, role=Role.COURT_CLERK
    )
    with pytest.raises(ValidationError) as caught:
        rules.routing_rule_save(rule=rule, actor=security)
    assert caught.value.message_dict == {"agency": [rules.AGENCY_NOT_USED]}
    assert not RoutingRule.objects.filter(name="Wrong").exists()


# ---------------------------------------------------------------------------------------
# Saved rules change routing


def test_a_new_rule_adds_its_recipients_to_the_next_notice(
    signed_in: SignIn,
    security: User,
    court: Court,
    client: Client,
) -> None:
    probation = AgencyFactory.create(
        ori="CT000015P", name="Probation, Hartford", kind=AgencyKind.PROBATION
    )
    officer = UserFactory.create(username="probation", agency=probation, roles=[Role.PROBATION])
    assert "probation" not in recipients_of_next_notice(court, client)

    data = form_data(agency=probation.pk)
    assert signed_in(security).post(reverse("ciss:routing_rule_create"), data).status_code == 302

    client.logout()
    got = recipients_of_next_notice(court, client)
    assert officer.username in got
    assert {"clerk", "clerk2", "prosecutor"} <= got


def test_an_edited_rule_changes_who_receives(
    signed_in: SignIn,
    security: User,
    court: Court,
    client: Client,
) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_edit", args=[rule.public_id])
    # Dropping the claim: the clerk without it receives too.
    assert signed_in(security).post(url, form_data(rule, required_claim="")).status_code == 302

    client.logout()
    got = recipients_of_next_notice(court, client)
    assert got == {"clerk", "clerk2", "clerk3", "prosecutor"}


def test_a_deactivated_rule_routes_nothing(
    signed_in: SignIn,
    security: User,
    court: Court,
    client: Client,
) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_deactivate", args=[rule.public_id])
    response = signed_in(security).post(url, follow=True)
    assert "is now inactive" in response.content.decode()
    assert not rule_named(CLERKS_RULE).is_active

    client.logout()
    got = recipients_of_next_notice(court, client)
    assert got == {"prosecutor"}


def test_a_reactivated_rule_routes_again(
    signed_in: SignIn,
    security: User,
    court: Court,
    client: Client,
) -> None:
    RoutingRule.objects.filter(name=CLERKS_RULE).update(is_active=False)
    url = reverse("ciss:routing_rule_reactivate", args=[rule_named(CLERKS_RULE).public_id])
    assert signed_in(security).post(url).status_code == 302

    client.logout()
    got = recipients_of_next_notice(court, client)
    assert got == {"clerk", "clerk2", "prosecutor"}


def test_a_rule_for_a_new_court_location_routes_to_its_court(
    signed_in: SignIn,
    security: User,
    court: Court,
    client: Client,
) -> None:
    new_haven = AgencyFactory.create(
        ori="CT009023J", name="Superior Court GA 23", kind=AgencyKind.COURT
    )
    UserFactory.create(
        username="nh-clerk",
        agency=new_haven,
        roles=[Role.COURT_CLERK],
        claims=[Claim.RECEIVE_ARREST_NOTICES],
    )
    assert recipients_of_next_notice(court, client, court={"code": "GA23"}) == set()

    data: dict[str, Any] = {"code": "ga23", "name": "GA 23, New Haven", "town": "New Haven"}
    data |= {"court_agency": new_haven.pk, "prosecutor_agency": ""}
    assert signed_in(security).post(reverse("ciss:court_location_create"), data).status_code == 302

    client.logout()
    got = recipients_of_next_notice(court, client, court={"code": "GA23"})
    assert got == {"nh-clerk"}


# ---------------------------------------------------------------------------------------
# Audit


def test_creating_a_rule_is_audited_with_its_values(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = form_data(agency=court.court.pk, court_code="GA14")
    signed_in(security).post(reverse("ciss:routing_rule_create"), data)
    event = AuditEvent.objects.get(action=rules.RULE_SAVED)
    rule = rule_named("Early arrest notice to probation")
    assert (event.actor, event.object_id) == (security, str(rule.public_id))
    assert event.details["created"] is True
    assert event.details["changes"]["agency"] == [None, court.court.ori]
    assert event.details["changes"]["court_code"] == [None, "GA14"]


def test_editing_a_rule_records_only_what_changed(
    signed_in: SignIn, security: User, court: Court
) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_edit", args=[rule.public_id])
    signed_in(security).post(url, form_data(rule, court_code="GA14", required_claim=""))
    event = AuditEvent.objects.get(action=rules.RULE_SAVED)
    assert event.details["created"] is False
    assert event.details["changes"] == {
        "court_code": ["", "GA14"],
        "required_claim": [Claim.RECEIVE_ARREST_NOTICES, ""],
    }


def test_saving_an_unchanged_rule_writes_no_audit_row(
    signed_in: SignIn, security: User, court: Court
) -> None:
    rule = rule_named(CLERKS_RULE)
    url = reverse("ciss:routing_rule_edit", args=[rule.public_id])
    assert signed_in(security).post(url, form_data(rule)).status_code == 302
    assert not AuditEvent.objects.filter(action=rules.RULE_SAVED).exists()


def test_deactivating_is_audited(signed_in: SignIn, security: User, court: Court) -> None:
    rule = rule_named(CLERKS_RULE)
    signed_in(security).post(reverse("ciss:routing_rule_deactivate", args=[rule.public_id]))
    event = AuditEvent.objects.get(action=rules.RULE_DEACTIVATED)
    assert (event.actor, event.object_id) == (security, str(rule.public_id))
    assert event.details["changes"] == {"is_active": [True, False]}
    assert rule_named(CLERKS_RULE).updated_by == security


def test_deactivating_an_inactive_rule_says_so_and_writes_nothing(
    signed_in: SignIn, security: User, court: Court
) -> None:
    RoutingRule.objects.filter(name=CLERKS_RULE).update(is_active=False)
    url = reverse("ciss:routing_rule_deactivate", args=[rule_named(CLERKS_RULE).public_id])
    response = signed_in(security).post(url, follow=True)
    assert "was already inactive" in response.content.decode()
    assert not AuditEvent.objects.filter(action=rules.RULE_DEACTIVATED).exists()


def test_a_rule_whose_court_location_is_gone_stays_inactive(
    signed_in: SignIn, security: User, court: Court
) -> None:
    CourtLocation.objects.create(code="GA99", name="Gone", court_agency=court.court)
    rule = RoutingRule.objects.create(
        name="To GA99", court_code="GA99", target=RoutingTarget.COURT, role=Role.COURT_CLERK
    )
    rule.is_active = False
    rule.save()
    CourtLocation.objects.filter(code="GA99").delete()
    url = reverse("ciss:routing_rule_reactivate", args=[rule.public_id])
    response = signed_in(security).post(url, follow=True)
    assert "stays inactive" in response.content.decode()
    assert not rule_named("To GA99").is_active


# ---------------------------------------------------------------------------------------
# Who would receive?


def test_preview_names_who_would_receive(signed_in: SignIn, security: User, court: Court) -> None:
    query = {"exchange_type": "early_arrest_notice", "court_code": "ga14"}
    query["sending_agency"] = court.police.ori
    response = signed_in(security).get(reverse("ciss:routing_preview"), query)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert {r.user.username for r in preview.recipients} == {"clerk", "clerk2", "prosecutor"}
    assert "3 recipients" in response.content.decode()


def test_preview_writes_nothing(signed_in: SignIn, security: User, court: Court) -> None:
    query = {"exchange_type": "infraction", "court_code": "", "sending_agency": court.police.ori}
    signed_in(security).get(reverse("ciss:routing_preview"), query)
    assert not Exchange.objects.exists()
    assert not Delivery.objects.exists()


def test_preview_of_an_unknown_court_is_a_field_error(
    signed_in: SignIn, security: User, court: Court
) -> None:
    query = {"exchange_type": "early_arrest_notice", "court_code": "GA99"}
    query["sending_agency"] = court.police.ori
    response = signed_in(security).get(reverse("ciss:routing_preview"), query)
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert "court_code" in response.context["form"].errors


# ---------------------------------------------------------------------------------------
# Court locations


def court_data(court: Court, **changes: Any) -> dict[str, Any]:
    data = {
        "code": "GA23",
        "name": "Geographical Area 23, New Haven",
        "town": "New Haven",
        "court_agency": court.court.pk,
        "prosecutor_agency": court.prosecutor_office.pk,
    }
    return data | changes


def test_court_locations_are_listed(signed_in: SignIn, security: User, court: Court) -> None:
    response = signed_in(security).get(reverse("ciss:court_locations"))
    assert response.status_code == 200
    assert "Geographical Area 14, Hartford" in response.content.decode()


def test_no_court_locations_says_what_that_means(signed_in: SignIn, security: User) -> None:
    response = signed_in(security).get(reverse("ciss:court_locations"))
    assert "No court locations yet" in response.content.decode()


def test_court_locations_list_refuses_post(signed_in: SignIn, security: User) -> None:
    assert signed_in(security).post(reverse("ciss:court_locations")).status_code == 405


def test_outsider_cannot_add_a_court_location(
    signed_in: SignIn, outsider: User, court: Court
) -> None:
    response = signed_in(outsider).post(reverse("ciss:court_location_create"), court_data(court))
    assert response.status_code == 403
    assert not CourtLocation.objects.filter(code="GA23").exists()


def test_adding_a_court_location_is_audited(
    signed_in: SignIn, security: User, court: Court
) -> None:
    response = signed_in(security).post(
        reverse("ciss:court_location_create"), court_data(court, code=" ga23 ")
    )
    assert response.status_code == 302
    location = CourtLocation.objects.get(code="GA23")
    event = AuditEvent.objects.get(action=rules.COURT_LOCATION_SAVED)
    assert (event.actor, event.object_id) == (security, "GA23")
    assert event.details["changes"]["court_agency"] == [None, court.court.ori]
    assert location.prosecutor_agency == court.prosecutor_office


def test_a_code_taken_in_any_case_is_a_field_error(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = court_data(court, code="ga14")
    response = signed_in(security).post(reverse("ciss:court_location_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["Court location GA14 already exists."]


def test_a_court_agency_of_another_kind_is_refused(
    signed_in: SignIn, security: User, court: Court
) -> None:
    data = court_data(court, court_agency=court.police.pk)
    response = signed_in(security).post(reverse("ciss:court_location_create"), data)
    assert response.status_code == 200
    assert "court_agency" in response.context["form"].errors


def test_editing_a_court_location_records_the_change_and_keeps_the_code(
    signed_in: SignIn, security: User, court: Court
) -> None:
    url = reverse("ciss:court_location_edit", args=["ga14"])
    data = court_data(court, code="GA15", name="GA 14, Hartford", town="Hartford")
    data["prosecutor_agency"] = ""
    assert signed_in(security).post(url, data).status_code == 302
    location = CourtLocation.objects.get(pk=court.location.pk)
    assert (location.code, location.name, location.prosecutor_agency) == (
        "GA14",
        "GA 14, Hartford",
        None,
    )
    event = AuditEvent.objects.get(action=rules.COURT_LOCATION_SAVED)
    assert event.details["changes"] == {
        "name": ["Geographical Area 14, Hartford", "GA 14, Hartford"],
        "prosecutor_agency": [court.prosecutor_office.ori, None],
    }


def test_editing_an_unknown_court_location_is_404(signed_in: SignIn, security: User) -> None:
    url = reverse("ciss:court_location_edit", args=["GA99"])
    assert signed_in(security).get(url).status_code == 404


def test_court_location_form_refuses_delete(
    signed_in: SignIn, security: User, court: Court
) -> None:
    url = reverse("ciss:court_location_edit", args=["GA14"])
    assert signed_in(security).delete(url).status_code == 405
    assert CourtLocation.objects.filter(code="GA14").exists()


def test_court_agency_that_is_inactive_stays_choosable_on_edit(
    signed_in: SignIn, security: User, court: Court
) -> None:
    Agency.objects.filter(pk=court.court.pk).update(is_active=False)
    url = reverse("ciss:court_location_edit", args=["GA14"])
    data = court_data(court, name="Renamed")
    assert signed_in(security).post(url, data).status_code == 302
