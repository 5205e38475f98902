"""Subscriptions: following a person, a plate or a case; alerts when an exchange or a feed
record touches it (worded for the follower's claims, once per follower and touch); real-
time e-mails and the daily digest without criminal-justice information; renewal
reminders, renewal and expiry; idempotent tasks."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss import subscription_alerts, subscription_tasks, subscriptions, tasks
from ciss.exchanges import delivery
from ciss.models import (
    Cadence,
    Exchange,
    Subscription,
    SubscriptionAlert,
    SubscriptionStatus,
    SubscriptionTransitionError,
)
from obts.models import Case, Person
from obts.services.feeds import feed_kind, feed_records_upsert
from obts.services.intake import Submitter
from portal.models import AuditEvent, User
from portal.roles import Claim, Role
from tests.ciss.exchange_factories import Court, court_setup, notice, submit
from tests.factories import UserFactory
from tests.obts.factories import SID, create_person, feed_body

pytestmark = pytest.mark.django_db

OnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SUBJECT = {**notice()["subject"], "sid": SID}
CJI = ("Neumann", "Michaela", "2026-", "Larceny", "53a-", "H14H", "ABC")


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def follower(court: Court) -> User:
    return UserFactory.create(
        username="follower",
        agency=court.police,
        roles=[Role.OFFICER],
        claims=[Claim.CRIMINAL_HISTORY],
    )


@pytest.fixture
def person() -> Person:
    return Person.objects.get(public_id=create_person())


@pytest.fixture
def committed(django_capture_on_commit_callbacks: OnCommit) -> Callable[[], Any]:
    """Run what a block queued on commit (the listener, the alert tasks), as a committed
    request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def at_start() -> Iterator[None]:
    with time_machine.travel(START, tick=False):
        yield


def upsert(kind: str, *records: dict[str, Any]) -> None:
    kind_ = feed_kind(kind)
    assert kind_ is not None
    results = feed_records_upsert(kind_, list(records), submitter=Submitter(command="test"))
    assert all(result.applied for result in results), [r.errors for r in results]


def arrest(client: Client, court: Court, incident: str = "2026-000124", **changes: Any) -> Exchange:
    """An early arrest notice about the person of ``create_person`` (by SID), unless
    ``changes`` name another subject."""
    payload = notice(incident_number=incident, **{"subject": SUBJECT, **changes})
    answer = submit(client, court.key, payload)
    assert answer.status_code == 202, answer.content
    return Exchange.objects.get(public_id=answer.json()["id"])


def alerts_of(user: User) -> list[SubscriptionAlert]:
    return list(SubscriptionAlert.objects.filter(subscription__user=user).order_by("pk"))


def assert_no_cji(message: mail.EmailMessage) -> None:
    text = f"{message.subject}\n{message.body}"
    for word in CJI:
        assert word not in text, f"{word!r} in the e-mail"


# ---------------------------------------------------------------------------------------
# Exchanges


def test_notice_about_followed_person_alerts_once_and_emails_without_cji(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    exchange = arrest(client, court)

    (alert,) = alerts_of(follower)
    assert alert.source == "exchange early_arrest_notice"
    assert alert.exchange_public_id == exchange.public_id
    assert alert.person_public_id == person.public_id
    assert alert.text.startswith(
        "Early arrest notice about Michaela Neumann (Incident 2026-000124)"
    )
    (message,) = mail.outbox
    assert message.to == [follower.email]
    assert message.subject == "Something you follow in the CJIS Portal has changed"
    assert "/ciss/following/" in message.body
    assert_no_cji(message)
    assert SubscriptionAlert.objects.get().emailed_at is not None


def test_an_exchange_queues_one_task_that_delivers_then_alerts(
    client: Client, court: Court, follower: User, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def recorder(name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: queued.append((name, args, kwargs))

    monkeypatch.setattr(tasks.deliver_exchange, "delay", recorder("deliver"))
    monkeypatch.setattr(subscription_tasks.alert_exchange_followers, "delay", recorder("alert"))
    subscriptions.follow_person(user=follower, person=person)
    exchange = arrest(client, court)
    assert queued == [("deliver", (exchange.pk,), {"alert_followers": True})]
    assert alerts_of(follower) == []

    tasks.deliver_exchange(exchange.pk, alert_followers=True)
    assert len(alerts_of(follower)) == 1
    assert set(exchange.deliveries.values_list("status", flat=True)) == {"delivered"}


def test_an_exchange_nobody_follows_is_settled_in_two_queries(
    client: Client, court: Court, follower: User, person: Person, django_assert_num_queries: Any
) -> None:
    other = Person.objects.get(
        public_id=create_person(
            source_id="A-2002", sid="CT77777777", first_name="Ona", last_name="Brandt", aliases=[]
        )
    )
    subscriptions.follow_person(user=follower, person=other)
    exchange = arrest(client, court)
    with django_assert_num_queries(2):
        assert subscription_alerts.alerts_for_exchange(exchange.pk) == []
    assert alerts_of(follower) == []


def test_followers_are_alerted_even_when_the_delivery_fails(
    client: Client, court: Court, follower: User, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> list[int]:
        raise RuntimeError("inbox table unavailable")

    failures: list[str] = []

    def failed(*, exchange_id: int, reason: str) -> None:
        failures.append(reason)  # the last attempt: no retry

    monkeypatch.setattr(delivery, "exchange_deliver", broken)
    monkeypatch.setattr(delivery, "delivery_attempt_failed", failed)
    subscriptions.follow_person(user=follower, person=person)
    arrest(client, court)
    assert failures == ["RuntimeError: inbox table unavailable"]
    assert len(alerts_of(follower)) == 1


def test_alerts_that_fail_beside_the_delivery_get_a_task_of_their_own(
    client: Client, court: Court, follower: User, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = subscription_alerts.alerts_for_exchange

    def fails_once(exchange_id: int) -> list[int]:
        calls.append(exchange_id)
        if len(calls) == 1:
            raise RuntimeError("lock timeout")
        return real(exchange_id)

    monkeypatch.setattr(subscription_alerts, "alerts_for_exchange", fails_once)
    subscriptions.follow_person(user=follower, person=person)
    exchange = arrest(client, court)
    assert calls == [exchange.pk, exchange.pk]
    assert len(alerts_of(follower)) == 1
    assert set(exchange.deliveries.values_list("status", flat=True)) == {"delivered"}


def test_records_an_exchange_wrote_do_not_alert_a_second_time(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    # The notice upserts the subject and records the case: the notice's alert covers both.
    subscriptions.follow_person(user=follower, person=person)
    arrest(client, court)
    assert [a.source for a in alerts_of(follower)] == ["exchange early_arrest_notice"]


def lot(client: Client, court: Court) -> list[Exchange]:
    """Three notices as intake accepts them together: about the person of
    ``create_person``, about another subject in a car, about a third on foot."""
    others = [
        {**SUBJECT, "sid": "CT77777777", "first_name": "Ona", "last_name": "Brandt"},
        {**SUBJECT, "sid": "CT66666666", "first_name": "Ira", "last_name": "Vance"},
    ]
    return [
        arrest(client, court, incident="2026-000401"),
        arrest(
            client,
            court,
            incident="2026-000402",
            subject=others[0],
            vehicle={"plate": "XYZ9876", "state": "CT"},
        ),
        arrest(client, court, incident="2026-000403", subject=others[1]),
    ]


def test_a_lot_alerts_only_the_followers_of_what_each_notice_touches(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    exchanges = lot(client, court)
    subscriptions.follow_person(user=follower, person=person)
    subscriptions.follow_plate(user=follower, plate="xyz-9876", state="ct")
    plate_reader = UserFactory.create(
        username="plate_reader", agency=court.police, roles=[Role.OFFICER]
    )
    subscriptions.follow_plate(user=plate_reader, plate="XYZ9876", state="CT")

    alert_ids = subscription_alerts.alerts_for_exchanges([e.pk for e in exchanges])

    touched = {
        (alert.subscription.user.username, alert.exchange_public_id)
        for alert in SubscriptionAlert.objects.filter(pk__in=alert_ids)
    }
    assert touched == {
        ("follower", exchanges[0].public_id),
        ("follower", exchanges[1].public_id),
        ("plate_reader", exchanges[1].public_id),
    }


def test_a_lot_nobody_follows_is_settled_in_two_queries(
    client: Client, court: Court, follower: User, person: Person, django_assert_num_queries: Any
) -> None:
    exchanges = lot(client, court)
    subscriptions.follow_plate(user=follower, plate="XYZ9877", state="CT")
    stranger = Person.objects.get(
        public_id=create_person(
            source_id="A-2003", sid="CT55555555", first_name="Eli", last_name="Stone", aliases=[]
        )
    )
    subscriptions.follow_person(user=follower, person=stranger)
    with django_assert_num_queries(2):
        assert subscription_alerts.alerts_for_exchanges([e.pk for e in exchanges]) == []


def test_notice_naming_followed_plate_alerts(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_plate(user=follower, plate="abc-1234", state="ct")
    arrest(client, court, vehicle={"plate": "ABCI234", "state": "CT"})
    (alert,) = alerts_of(follower)
    assert "names plate CT ABC1234" in alert.text


def test_notice_on_followed_case_alerts(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    arrest(client, court, incident="2026-000200")
    subscriptions.follow_case(user=follower, number="2026-000200")
    schedule = {
        "type": "court_schedule_notification",
        "agency_ori": court.police.ori,
        "incident_number": "2026-000200",
        "docket_number": "H14H-CR26-0000777-S",
        "court": {"code": "GA14"},
        "court_date": "2026-12-01",
        "hearing": "pretrial",
    }
    assert submit(client, court.key, schedule).status_code == 202
    (alert,) = alerts_of(follower)
    assert alert.source == "exchange court_schedule_notification"
    assert alert.person_public_id == person.public_id


def test_one_alert_for_who_follows_both_the_person_and_the_case(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    arrest(client, court, incident="2026-000300")
    subscriptions.follow_case(user=follower, number="2026-000300")
    subscriptions.follow_person(user=follower, person=person)
    mail.outbox.clear()
    arrest(client, court, incident="2026-000300", narrative="Second notice, same incident.")
    assert len(alerts_of(follower)) == 1
    assert len(mail.outbox) == 1


def test_stopped_subscription_is_not_alerted(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    subscriptions.unfollow(subscription=subscription, actor=follower)
    arrest(client, court)
    assert alerts_of(follower) == []


def test_follower_without_record_roles_is_not_alerted(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    follower.role_grants.all().delete()
    arrest(client, court)
    assert alerts_of(follower) == []


def test_follower_without_criminal_history_is_told_only_that_something_changed(
    client: Client, court: Court, person: Person
) -> None:
    officer = UserFactory.create(username="plain", agency=court.police, roles=[Role.OFFICER])
    subscriptions.follow_person(user=officer, person=person)
    arrest(client, court)
    (alert,) = alerts_of(officer)
    assert alert.text == "Michaela Neumann: something changed. Open the record to see what you may."


# ---------------------------------------------------------------------------------------
# Feed records


def test_cases_feed_record_for_followed_case_alerts(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    upsert("cases", feed_body("cases"))
    subscriptions.follow_case(user=follower, number="H14H-CR26-0001234-S")
    with committed():
        upsert("cases", feed_body("cases", as_of="2026-01-06T12:00:00Z", status="disposed"))
    (alert,) = alerts_of(follower)
    assert alert.source == "feed cases"
    assert alert.text == (
        "Docket H14H-CR26-0001234-S (Michaela Neumann): new or changed case record."
    )
    assert alert.person_public_id == person.public_id
    assert len(mail.outbox) == 1


def test_replayed_feed_record_alerts_no_one(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    upsert("cases", feed_body("cases"))
    subscriptions.follow_case(user=follower, number="H14H-CR26-0001234-S")
    with committed():
        kind = feed_kind("cases")
        assert kind is not None
        (result,) = feed_records_upsert(
            kind, [feed_body("cases")], submitter=Submitter(command="test")
        )
    assert result.outcome == "unchanged"
    assert alerts_of(follower) == []


def test_vehicles_feed_record_for_followed_plate_alerts(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    subscriptions.follow_plate(user=follower, plate="ABC 1234", state="CT")
    vehicle = {
        "source_system": "DMV-REG",
        "source_id": "DMV-1",
        "as_of": "2026-11-01T12:00:00Z",
        "plate": "abc-i234",
        "plate_state": "ct",
        "owner_name": "Harbor Freight Leasing LLC",
    }
    with committed():
        upsert("vehicles", vehicle)
    (alert,) = alerts_of(follower)
    assert alert.source == "feed vehicles"
    assert alert.text == "Plate CT ABC1234: new or changed vehicle registration record."


def incident_naming(person: Person, plate: str) -> dict[str, Any]:
    return {
        "source_system": "HPD-RMS",
        "source_id": "INC-77",
        "as_of": "2026-11-01T12:00:00Z",
        "incident_number": "2026-000777",
        "agency_ori": "CT0006400",
        "kind": "Burglary",
        "occurred_at": "2026-10-31T22:00:00Z",
        "people": [{"person": {"sid": SID}, "role": "suspect"}],
        "vehicles": [{"plate": plate, "plate_state": "CT", "role": "suspect"}],
    }


def test_incident_naming_a_followed_person_alerts(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    with committed():
        upsert("incidents", incident_naming(person, "XYZ999"))
    (alert,) = alerts_of(follower)
    assert alert.source == "feed incidents"
    assert alert.text == "Michaela Neumann: new or changed police incident report record."


def test_incident_naming_a_followed_plate_alerts(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    subscriptions.follow_plate(user=follower, plate="ABC 1234", state="CT")
    with committed():
        upsert("incidents", incident_naming(person, "abc-1234"))
    texts = [alert.text for alert in alerts_of(follower)]
    assert texts == ["Plate CT ABC1234: new or changed police incident report record."]


def test_warrant_for_followed_person_alerts(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    with committed():
        upsert("warrants", feed_body("warrants"))
    (alert,) = alerts_of(follower)
    assert alert.text == "Michaela Neumann: new or changed warrant record."


def test_sealed_case_is_not_described_without_the_sealed_claim(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    with committed():
        upsert("cases", feed_body("cases", is_sealed=True))
    (alert,) = alerts_of(follower)
    assert "H14H" not in alert.text
    assert alert.text.endswith("something changed. Open the record to see what you may.")


def test_sealed_case_is_described_to_who_holds_the_sealed_claim(
    court: Court, person: Person, committed: Callable[[], Any]
) -> None:
    reader = UserFactory.create(
        username="sealed-reader",
        agency=court.police,
        roles=[Role.OFFICER],
        claims=[Claim.CRIMINAL_HISTORY, Claim.SEALED_RECORDS],
    )
    subscriptions.follow_person(user=reader, person=person)
    with committed():
        upsert("cases", feed_body("cases", is_sealed=True))
    (alert,) = alerts_of(reader)
    assert "docket H14H-CR26-0001234-S" in alert.text


def test_alerts_follow_a_person_merged_into_another(
    follower: User, person: Person, committed: Callable[[], Any]
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    survivor = Person.objects.get(
        public_id=create_person(
            source_id="B-2", sid="CT7654321", first_name="Dana", last_name="Other", aliases=[]
        )
    )
    Person.objects.filter(pk=person.pk).update(merged_into=survivor)
    with committed():
        upsert("warrants", feed_body("warrants", person={"id": str(survivor.public_id)}))
    (alert,) = alerts_of(follower)
    assert alert.person_public_id == survivor.public_id


# ---------------------------------------------------------------------------------------
# Cadence and e-mail


def test_daily_cadence_sends_no_email_at_once_and_one_digest_with_the_count(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_person(user=follower, person=person, cadence=Cadence.DAILY)
    arrest(client, court, incident="2026-000401")
    arrest(client, court, incident="2026-000402")
    assert len(alerts_of(follower)) == 2
    assert mail.outbox == []

    assert subscription_tasks.send_daily_digests.delay().get() == 1
    (message,) = mail.outbox
    assert message.to == [follower.email]
    assert "2 changes to what you follow" in message.body
    assert_no_cji(message)


def test_digest_runs_twice_send_once(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_person(user=follower, person=person, cadence=Cadence.DAILY)
    arrest(client, court)
    subscription_tasks.send_daily_digests.delay()
    assert subscription_tasks.send_daily_digests.delay().get() == 0
    assert len(mail.outbox) == 1


def test_digest_leaves_out_alerts_already_seen(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_person(user=follower, person=person, cadence=Cadence.DAILY)
    arrest(client, court)
    subscriptions.alerts_show(user=follower)
    assert subscription_tasks.send_daily_digests.delay().get() == 0
    assert mail.outbox == []


def test_follower_without_email_address_gets_the_alert_but_no_email(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    User.objects.filter(pk=follower.pk).update(email="")
    subscriptions.follow_person(user=follower, person=person)
    arrest(client, court)
    assert len(alerts_of(follower)) == 1
    assert mail.outbox == []


def test_mail_server_error_is_retried_then_kept_on_the_alert(
    client: Client,
    court: Court,
    follower: User,
    person: Person,
    monkeypatch: pytest.MonkeyPatch,
    settings: SettingsWrapper,
) -> None:
    settings.CISS_DELIVERY_MAX_RETRIES = 1

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(subscription_alerts, "send_mail", refuse)
    subscriptions.follow_person(user=follower, person=person)
    arrest(client, court)
    (alert,) = alerts_of(follower)
    assert alert.emailed_at is None
    assert alert.email_error == "ConnectionRefusedError: SMTP server down"


# ---------------------------------------------------------------------------------------
# Idempotent tasks


def test_exchange_alert_task_run_twice_alerts_and_emails_once(
    client: Client, court: Court, follower: User, person: Person
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    exchange = arrest(client, court)
    assert subscription_tasks.alert_exchange_followers.delay(exchange.pk).get() == 0
    assert len(alerts_of(follower)) == 1
    assert len(mail.outbox) == 1


def test_records_alert_task_run_twice_alerts_once(follower: User, person: Person) -> None:
    subscriptions.follow_person(user=follower, person=person)
    for _ in range(2):
        subscription_tasks.alert_record_followers.delay("warrants", [person.pk], [], [], "change-1")
    assert len(alerts_of(follower)) == 1
    assert len(mail.outbox) == 1


def test_email_task_run_twice_emails_once(follower: User, person: Person) -> None:
    subscriptions.follow_person(user=follower, person=person)
    ids = subscription_alerts.alerts_for_records("warrants", [person.pk], [], [], change="c")
    subscription_tasks.email_alerts.delay(ids)
    assert subscription_tasks.email_alerts.delay(ids).get() == 0
    assert len(mail.outbox) == 1


def test_broker_down_at_commit_never_fails_the_exchange(
    client: Client,
    court: Court,
    follower: User,
    person: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(subscription_tasks.alert_exchange_followers, "delay", refuse)
    monkeypatch.setattr(tasks.deliver_exchange, "delay", refuse)
    subscriptions.follow_person(user=follower, person=person)
    arrest(client, court)
    assert alerts_of(follower) == []
    assert subscriptions.queue_exchange_alerts(Exchange.objects.get().pk) is False


# ---------------------------------------------------------------------------------------
# Following, renewing, reminders, expiry


def test_following_twice_is_refused_with_a_clear_message(follower: User, person: Person) -> None:
    subscriptions.follow_person(user=follower, person=person)
    with pytest.raises(subscriptions.AlreadyFollowing, match="You already follow Michaela Neumann"):
        subscriptions.follow_person(user=follower, person=person)
    assert Subscription.objects.count() == 1


def test_a_plate_typed_another_way_is_the_same_plate(follower: User) -> None:
    subscriptions.follow_plate(user=follower, plate="ABC1234", state="CT")
    with pytest.raises(subscriptions.AlreadyFollowing, match="plate CT ABC1234"):
        subscriptions.follow_plate(user=follower, plate="abc-i234", state="ct")


def test_following_again_after_stopping_is_allowed(follower: User, person: Person) -> None:
    first = subscriptions.follow_person(user=follower, person=person)
    subscriptions.unfollow(subscription=first, actor=follower)
    second = subscriptions.follow_person(user=follower, person=person)
    assert second.pk != first.pk
    assert Subscription.objects.filter(status=SubscriptionStatus.ACTIVE).get() == second


def test_following_is_audited(follower: User, person: Person) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    event = AuditEvent.objects.get(action="ciss.subscription.followed")
    assert event.actor == follower
    assert event.object_id == str(subscription.public_id)
    assert event.details["person"] == str(person.public_id)


def test_a_bad_plate_is_refused(follower: User) -> None:
    with pytest.raises(subscriptions.FollowRefused, match="letters and digits"):
        subscriptions.follow_plate(user=follower, plate="AB$12", state="CT")
    with pytest.raises(subscriptions.FollowRefused, match="two-letter"):
        subscriptions.follow_plate(user=follower, plate="AB12", state="Connecticut")


def test_a_sealed_case_cannot_be_followed_without_the_claim(follower: User, person: Person) -> None:
    upsert("cases", feed_body("cases", is_sealed=True))
    with pytest.raises(subscriptions.FollowRefused, match="No case you may see"):
        subscriptions.follow_case(user=follower, number="H14H-CR26-0001234-S")


def test_a_case_needs_the_criminal_history_claim(court: Court, person: Person) -> None:
    officer = UserFactory.create(username="plain", agency=court.police, roles=[Role.OFFICER])
    upsert("cases", feed_body("cases"))
    with pytest.raises(subscriptions.FollowRefused, match="criminal history claim"):
        subscriptions.follow_case(user=officer, number="H14H-CR26-0001234-S")


def test_an_incident_number_several_cases_share_asks_for_the_docket(
    follower: User, person: Person
) -> None:
    upsert(
        "cases",
        feed_body("cases", source_id="R-1", docket_number="", incident_number="2026-9"),
        feed_body("cases", source_id="R-2", docket_number="", incident_number="2026-9"),
    )
    with pytest.raises(subscriptions.FollowRefused, match="docket number instead"):
        subscriptions.follow_case(user=follower, number="2026-9")


def test_subscription_expires_after_a_year_by_default(
    follower: User, person: Person, at_start: None
) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    assert subscription.expires_at == START + timedelta(days=365)


def test_expiry_ends_the_subscription_once(follower: User, person: Person, at_start: None) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    with time_machine.travel(START + timedelta(days=365, minutes=1), tick=False):
        assert subscription_tasks.end_expired_subscriptions.delay().get() == 1
        assert subscription_tasks.end_expired_subscriptions.delay().get() == 0
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.EXPIRED
    assert subscription.ended_at == START + timedelta(days=365, minutes=1)
    assert AuditEvent.objects.filter(action="ciss.subscription.expired").count() == 1


def test_a_lapsed_subscription_alerts_no_one_before_the_expiry_task_runs(
    follower: User, person: Person, at_start: None
) -> None:
    subscriptions.follow_person(user=follower, person=person)
    with time_machine.travel(START + timedelta(days=366), tick=False):
        assert (
            subscription_alerts.alerts_for_records("warrants", [person.pk], [], [], change="x")
            == []
        )
    assert alerts_of(follower) == []


def test_reminder_is_sent_once_before_the_end(
    follower: User, person: Person, at_start: None
) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    with time_machine.travel(START + timedelta(days=300), tick=False):
        assert subscription_tasks.send_renewal_reminders.delay().get() == 0
    with time_machine.travel(START + timedelta(days=355), tick=False):
        assert subscription_tasks.send_renewal_reminders.delay().get() == 1
        assert subscription_tasks.send_renewal_reminders.delay().get() == 0
    (message,) = mail.outbox
    assert message.subject == "Renew what you follow in the CJIS Portal"
    assert "2027-11-02" in message.body
    assert_no_cji(message)
    subscription.refresh_from_db()
    assert subscription.reminded_at == START + timedelta(days=355)


def test_renewing_extends_a_year_from_today_and_reminds_again(
    follower: User, person: Person, at_start: None
) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    later = START + timedelta(days=355)
    with time_machine.travel(later, tick=False):
        subscription_tasks.send_renewal_reminders.delay()
        renewed = subscriptions.renew(subscription=subscription, actor=follower)
    assert renewed.expires_at == later + timedelta(days=365)
    assert renewed.reminded_at is None
    assert AuditEvent.objects.filter(action="ciss.subscription.renewed").count() == 1


def test_a_stopped_subscription_cannot_be_renewed(follower: User, person: Person) -> None:
    subscription = subscriptions.follow_person(user=follower, person=person)
    subscriptions.unfollow(subscription=subscription, actor=follower)
    with pytest.raises(SubscriptionTransitionError, match="stopped, so it cannot be renewed"):
        subscriptions.renew(subscription=subscription, actor=follower)


def test_subscription_days_come_from_settings(
    follower: User, person: Person, settings: SettingsWrapper, at_start: None
) -> None:
    settings.CISS_SUBSCRIPTION_DAYS = 30
    subscription = subscriptions.follow_person(user=follower, person=person)
    assert subscription.expires_at == START + timedelta(days=30)


def test_a_docket_typed_in_lower_case_finds_the_case(follower: User, person: Person) -> None:
    upsert("cases", feed_body("cases"))
    subscription = subscriptions.follow_case(user=follower, number=" h14h-cr26-0001234-s ")
    assert subscription.case == Case.objects.get()
