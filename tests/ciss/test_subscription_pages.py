"""The Following page and its actions: who may use them (anonymous, outsider, allowed,
wrong method), following a plate, a case and — from search results — a person, renewing
and stopping one's own subscriptions only, the reminder near the end, and recent alerts
marked seen once shown."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from ciss import subscription_alerts, subscriptions
from ciss.models import Cadence, Subscription, SubscriptionAlert, SubscriptionStatus
from obts.models import Person
from obts.services.feeds import feed_kind, feed_records_upsert
from obts.services.intake import Submitter
from portal.models import AuditEvent, User
from portal.roles import Claim
from tests.ciss.test_person_search_api import indexed_person
from tests.obts.factories import create_person, feed_body
from tests.obts.factories_records import cj_user

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
FOLLOWING = "ciss:following"
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
DOCKET = "H14H-CR26-0001234-S"
# (URL name, takes a subscription id, the one method it answers)
PAGES = [
    (FOLLOWING, False, "get"),
    ("ciss:follow_plate", False, "post"),
    ("ciss:follow_case", False, "post"),
    ("ciss:follow_person", False, "post"),
    ("ciss:subscription_renew", True, "post"),
    ("ciss:subscription_stop", True, "post"),
    ("ciss:subscription_cadence", True, "post"),
]


@pytest.fixture
def reader(officer: User) -> User:
    """An officer who may see criminal history (so may follow cases)."""
    return cj_user("reader", officer.agency, claims=[Claim.CRIMINAL_HISTORY])  # type: ignore[arg-type]


@pytest.fixture
def reader_client(signed_in: SignIn, reader: User) -> Client:
    return signed_in(reader)


@pytest.fixture
def person() -> Person:
    return Person.objects.get(public_id=create_person())


@pytest.fixture
def followed(reader: User, person: Person) -> Subscription:
    return subscriptions.follow_person(user=reader, person=person)


def url(name: str, subscription: Subscription | None = None) -> str:
    if subscription is None:
        return reverse(name)
    return reverse(name, kwargs={"public_id": subscription.public_id})


def call(client: Client, method: str, address: str, **data: Any) -> "Response":
    return client.get(address) if method == "get" else client.post(address, data)


def text(response: "Response") -> str:
    return response.content.decode()


def messages_of(client: Client) -> str:
    return text(client.get(reverse(FOLLOWING)))


# ---------------------------------------------------------------------------------------
# Who may


@pytest.mark.parametrize(("name", "by_id", "method"), PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(
    client: Client, followed: Subscription, name: str, by_id: bool, method: str
) -> None:
    response = call(client, method, url(name, followed if by_id else None))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize(("name", "by_id", "method"), PAGES)
def test_outsider_is_refused(
    signed_in: SignIn,
    outsider: User,
    followed: Subscription,
    name: str,
    by_id: bool,
    method: str,
) -> None:
    response = call(signed_in(outsider), method, url(name, followed if by_id else None))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "by_id", "method"), PAGES)
def test_wrong_method_is_refused(
    reader_client: Client, followed: Subscription, name: str, by_id: bool, method: str
) -> None:
    wrong = "post" if method == "get" else "get"
    assert call(reader_client, wrong, url(name, followed if by_id else None)).status_code == 405


@pytest.mark.parametrize("name", ["ciss:subscription_renew", "ciss:subscription_stop"])
def test_someone_elses_subscription_is_not_found(
    signed_in: SignIn, officer: User, followed: Subscription, name: str
) -> None:
    response = signed_in(officer).post(url(name, followed))
    assert response.status_code == 404
    followed.refresh_from_db()
    assert followed.status == SubscriptionStatus.ACTIVE
    assert followed.expires_at == Subscription.objects.get().expires_at


def test_following_is_in_the_navigation_of_record_readers(signed_in: SignIn, officer: User) -> None:
    page = text(signed_in(officer).get(reverse("portal:home")))
    assert f'href="{reverse(FOLLOWING)}"' in page


# ---------------------------------------------------------------------------------------
# The page


def test_empty_page_says_nothing_is_followed_yet(reader_client: Client) -> None:
    page = text(reader_client.get(reverse(FOLLOWING)))
    assert "You follow nothing yet." in page
    assert "No alerts yet." in page
    for label in ("Plate", "State", "Docket or incident number"):
        assert f">{label}" in page


def test_page_lists_what_the_user_follows(
    reader_client: Client, followed: Subscription, person: Person
) -> None:
    page = text(reader_client.get(reverse(FOLLOWING)))
    row = page[page.index(f'data-subscription="{followed.public_id}"') :]
    assert "Person: " in row
    assert reverse("obts:person", kwargs={"public_id": person.public_id}) in row
    assert "Right away, one e-mail per change" in row
    assert url("ciss:subscription_renew", followed) in row
    assert url("ciss:subscription_stop", followed) in row


def test_page_shows_alerts_new_once_then_seen(
    reader_client: Client, reader: User, followed: Subscription, person: Person
) -> None:
    subscription_alerts.alerts_for_records("warrants", [person.pk], [], [], change="c1")
    first = text(reader_client.get(reverse(FOLLOWING)))
    assert "Michaela Neumann: new or changed warrant record." in first
    assert 'data-new-count="1"' in first
    assert SubscriptionAlert.objects.get().seen_at is not None
    second = text(reader_client.get(reverse(FOLLOWING)))
    assert "new or changed warrant record" in second
    assert "data-new-count" not in second
    assert AuditEvent.objects.filter(action="ciss.subscription.alerts_viewed").count() == 2


def test_page_shows_only_the_users_own_alerts(
    signed_in: SignIn, officer: User, reader: User, followed: Subscription, person: Person
) -> None:
    subscription_alerts.alerts_for_records("warrants", [person.pk], [], [], change="c1")
    page = text(signed_in(officer).get(reverse(FOLLOWING)))
    assert "warrant record" not in page
    assert SubscriptionAlert.objects.get().seen_at is None


def test_reminder_shows_when_the_end_is_near(
    signed_in: SignIn, reader: User, person: Person
) -> None:
    with time_machine.travel(START, tick=False):
        subscriptions.follow_person(user=reader, person=person)
    with time_machine.travel(START + timedelta(days=200), tick=False):
        assert "data-ends-soon" not in text(signed_in(reader).get(reverse(FOLLOWING)))
    with time_machine.travel(START + timedelta(days=360), tick=False):
        page = text(signed_in(reader).get(reverse(FOLLOWING)))
    assert "Ends in 5 days: renew to keep following." in page


def test_page_queries_do_not_grow_with_subscriptions_and_alerts(
    reader_client: Client,
    reader: User,
    person: Person,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    subscriptions.follow_person(user=reader, person=person)
    for number in range(5):
        subscriptions.follow_plate(user=reader, plate=f"ABC{number}", state="CT")
    upsert_case()
    subscriptions.follow_case(user=reader, number=DOCKET)
    for number in range(10):
        subscription_alerts.alerts_for_records(
            "warrants", [person.pk], [], [], change=f"change-{number}"
        )
    with django_assert_max_num_queries(20):
        response = reader_client.get(reverse(FOLLOWING))
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------
# Following a plate or a case


def test_following_a_plate(reader_client: Client, reader: User) -> None:
    response = reader_client.post(
        reverse("ciss:follow_plate"),
        {"plate": "abc-1234", "state": "ct", "plate_cadence": Cadence.DAILY},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(FOLLOWING)
    subscription = Subscription.objects.get(user=reader)
    assert (subscription.plate, subscription.plate_state) == ("ABC1234", "CT")
    assert subscription.cadence == Cadence.DAILY
    assert "You now follow plate CT ABC1234" in messages_of(reader_client)


def test_a_bad_plate_is_shown_with_the_form(reader_client: Client) -> None:
    response = reader_client.post(
        reverse("ciss:follow_plate"),
        {"plate": "AB$1", "state": "CT", "plate_cadence": Cadence.REALTIME},
    )
    assert response.status_code == 400
    assert "letters and digits" in text(response)
    assert not Subscription.objects.exists()


def test_following_a_plate_twice_says_so(reader_client: Client, reader: User) -> None:
    data = {"plate": "ABC1234", "state": "CT", "plate_cadence": Cadence.REALTIME}
    reader_client.post(reverse("ciss:follow_plate"), data)
    response = reader_client.post(reverse("ciss:follow_plate"), {**data, "plate": "ABCI234"})
    assert response.status_code == 302
    assert "You already follow plate CT ABC1234" in messages_of(reader_client)
    assert Subscription.objects.count() == 1


def upsert_case(**changes: Any) -> None:
    kind = feed_kind("cases")
    assert kind is not None
    feed_records_upsert(kind, [feed_body("cases", **changes)], submitter=Submitter(command="t"))


def test_following_a_case_by_docket(reader_client: Client, reader: User, person: Person) -> None:
    upsert_case()
    response = reader_client.post(
        reverse("ciss:follow_case"), {"number": DOCKET, "case_cadence": Cadence.REALTIME}
    )
    assert response.status_code == 302
    assert Subscription.objects.get(user=reader).case is not None
    page = messages_of(reader_client)
    assert f"You now follow docket {DOCKET}" in page
    assert f"docket {DOCKET} (Michaela Neumann)" in page


def test_an_unknown_case_is_shown_with_the_form(reader_client: Client) -> None:
    response = reader_client.post(
        reverse("ciss:follow_case"), {"number": "NOPE-1", "case_cadence": Cadence.REALTIME}
    )
    assert response.status_code == 400
    assert "No case you may see has the docket or incident number NOPE-1." in text(response)


def test_a_case_sealed_after_it_was_followed_is_not_named(
    reader_client: Client, reader: User, person: Person
) -> None:
    upsert_case()
    subscriptions.follow_case(user=reader, number=DOCKET)
    upsert_case(as_of="2026-02-01T00:00:00Z", is_sealed=True)
    page = text(reader_client.get(reverse(FOLLOWING)))
    assert "A case no longer shown to you" in page
    assert DOCKET not in page


# ---------------------------------------------------------------------------------------
# Following a person from search results


def test_search_results_offer_to_follow_each_person(signed_in: SignIn, reader: User) -> None:
    michaela = indexed_person("Michaela", "Neumann", sex="F")
    response = signed_in(reader).get(
        reverse("ciss:search"), {"name": "Michaela Neumann", "purpose": "traffic_stop"}
    )
    page = text(response)
    card = page[page.index("data-person") :]
    assert f'action="{reverse("ciss:follow_person")}"' in card
    assert f'name="person" value="{michaela.public_id}"' in card
    assert "Follow this person" in card


def test_following_a_person_without_htmx_goes_to_the_following_page(
    reader_client: Client, reader: User, person: Person
) -> None:
    response = reader_client.post(reverse("ciss:follow_person"), {"person": person.public_id})
    assert response.status_code == 302
    assert response["Location"] == reverse(FOLLOWING)
    assert Subscription.objects.get(user=reader).person == person
    assert "You now follow this person" in messages_of(reader_client)


def test_following_a_person_with_htmx_answers_what_replaces_the_button(
    reader_client: Client, reader: User, person: Person
) -> None:
    post = reader_client.post(
        reverse("ciss:follow_person"), {"person": person.public_id}, headers={"HX-Request": "true"}
    )
    assert post.status_code == 200
    assert "You now follow this person, until" in text(post)
    again = reader_client.post(
        reverse("ciss:follow_person"), {"person": person.public_id}, headers={"HX-Request": "true"}
    )
    assert "You already follow this person." in text(again)
    assert Subscription.objects.count() == 1


def test_following_an_unknown_person_is_not_found(reader_client: Client) -> None:
    response = reader_client.post(
        reverse("ciss:follow_person"), {"person": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 404


def test_following_without_a_person_is_a_bad_request(reader_client: Client) -> None:
    assert reader_client.post(reverse("ciss:follow_person"), {"person": "x"}).status_code == 400


# ---------------------------------------------------------------------------------------
# Renewing and stopping


def test_renewing_from_the_page(reader: User, signed_in: SignIn, person: Person) -> None:
    with time_machine.travel(START, tick=False):
        subscription = subscriptions.follow_person(user=reader, person=person)
    later = START + timedelta(days=360)
    with time_machine.travel(later, tick=False):
        client = signed_in(reader)
        response = client.post(url("ciss:subscription_renew", subscription))
        assert response.status_code == 302
        assert "Renewed: you follow Michaela Neumann until 2028-10-27." in messages_of(client)
    subscription.refresh_from_db()
    assert subscription.expires_at == later + timedelta(days=365)


def test_stopping_from_the_page(reader_client: Client, followed: Subscription) -> None:
    response = reader_client.post(url("ciss:subscription_stop", followed))
    assert response.status_code == 302
    followed.refresh_from_db()
    assert followed.status == SubscriptionStatus.STOPPED
    assert "You no longer follow Michaela Neumann." in messages_of(reader_client)


def test_stopping_twice_says_why_it_cannot(reader_client: Client, followed: Subscription) -> None:
    reader_client.post(url("ciss:subscription_stop", followed))
    reader_client.post(url("ciss:subscription_stop", followed))
    assert "stopped, so it cannot be stopped" in messages_of(reader_client)


# ---------------------------------------------------------------------------------------
# How the follower is e-mailed


def alert_of(subscription: Subscription, key: str) -> SubscriptionAlert:
    return SubscriptionAlert.objects.create(
        subscription=subscription, key=key, text="A new case was filed.", source="cases"
    )


def test_switching_to_daily_is_saved_and_audited(
    reader_client: Client, reader: User, followed: Subscription
) -> None:
    response = reader_client.post(url("ciss:subscription_cadence", followed), {"cadence": "daily"})

    assert response.status_code == 302
    followed.refresh_from_db()
    assert followed.cadence == Cadence.DAILY
    assert "E-mail for Michaela Neumann: once a day" in messages_of(reader_client)
    event = AuditEvent.objects.get(action="ciss.subscription.cadence_changed")
    assert event.actor == reader
    assert (event.details["from"], event.details["to"]) == ("realtime", "daily")


def test_switching_to_right_away_mails_what_was_waiting_for_the_digest(
    reader_client: Client,
    reader: User,
    person: Person,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    User.objects.filter(pk=reader.pk).update(email="reader@example.test")
    subscription = subscriptions.follow_person(user=reader, person=person, cadence=Cadence.DAILY)
    waiting = alert_of(subscription, "one")

    with django_capture_on_commit_callbacks(execute=True):
        reader_client.post(url("ciss:subscription_cadence", subscription), {"cadence": "realtime"})

    assert [message.to for message in mailoutbox] == [["reader@example.test"]]
    waiting.refresh_from_db()
    assert waiting.emailed_at is not None


def test_the_page_offers_the_current_e_mail_choice(
    reader_client: Client, followed: Subscription
) -> None:
    page = text(reader_client.get(reverse(FOLLOWING)))

    assert f'action="{url("ciss:subscription_cadence", followed)}"' in page
    assert '<option value="realtime" selected>' in page


def test_a_wrong_choice_says_what_to_choose(reader_client: Client, followed: Subscription) -> None:
    reader_client.post(url("ciss:subscription_cadence", followed), {"cadence": "hourly"})

    followed.refresh_from_db()
    assert followed.cadence == Cadence.REALTIME
    assert "Choose how you want to be e-mailed" in messages_of(reader_client)


def test_the_e_mail_of_a_stopped_following_cannot_be_changed(
    reader_client: Client, followed: Subscription
) -> None:
    reader_client.post(url("ciss:subscription_stop", followed))
    reader_client.post(url("ciss:subscription_cadence", followed), {"cadence": "daily"})

    followed.refresh_from_db()
    assert followed.cadence == Cadence.REALTIME
    assert "stopped, so its e-mail cannot be changed" in messages_of(reader_client)
