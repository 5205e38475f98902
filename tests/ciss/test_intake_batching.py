"""Arrest notices accepted together (``ciss.exchanges.batching``, ``intake.accept_arrests``):
the same records, answers and deliveries as one at a time, and each request its own
answer whatever happens to the lot it waited in."""

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from ciss import subscriptions, tasks
from ciss.exchanges import delivery, intake, routing
from ciss.exchanges.batching import Batcher
from ciss.models import (
    AlertChannel,
    Delivery,
    DeliveryStatus,
    Exchange,
    ExchangeStatus,
    InboxPreference,
    SubscriptionAlert,
)
from obts.models import Case, Person
from obts.services import persons
from portal import audit
from portal.models import ApiClient, AuditEvent
from portal.roles import Claim, Role
from tests.ciss.exchange_factories import POLICE_ORI, Court, court_setup, notice
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def court() -> Court:
    return court_setup()


def _client() -> ApiClient:
    return ApiClient.objects.get(agency__ori=POLICE_ORI)


def _notices() -> list[dict[str, Any]]:
    """Three notices: two about one person (same name and date of birth, two arrests),
    one about somebody else with a felony charge."""
    felony = {"statute": "53a-101", "description": "Burglary 1st degree", "severity": "felony"}
    return [
        notice(incident_number="2026-000201"),
        notice(
            incident_number="2026-000202",
            subject={"first_name": "Dmitri", "last_name": "Okafor", "dob": "1990-02-03"},
            charges=[felony],
        ),
        notice(incident_number="2026-000203"),
    ]


def _accept(mode: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    client = _client()
    items = [(payload, str(uuid.uuid4()), intake.body_hash(payload)) for payload in payloads]
    with TestCase.captureOnCommitCallbacks(execute=True):
        if mode == "together":
            submissions = intake.accept_arrests(items, client)
        else:
            submissions = [intake._accept_alone(*item, client) for item in items]
    return [submission.answer for submission in submissions]


@pytest.mark.parametrize("mode", ["alone", "together"])
def test_a_lot_records_and_delivers_what_one_at_a_time_would(mode: str, court: Court) -> None:
    answers = _accept(mode, _notices())

    assert [answer["status"] for answer in answers] == ["accepted"] * 3
    assert [len(answer["deliveries"]) for answer in answers] == [3, 3, 3]
    # The second arrest of the same person finds the person the first one created.
    assert answers[0]["person_id"] == answers[2]["person_id"] != answers[1]["person_id"]
    assert Person.objects.count() == 2
    cases = {case.incident_number: case for case in Case.objects.prefetch_related("charges")}
    assert sorted(cases) == ["2026-000201", "2026-000202", "2026-000203"]
    assert [charge.statute for charge in cases["2026-000202"].charges.all()] == ["53a-101"]
    assert str(cases["2026-000202"].person.public_id) == answers[1]["person_id"]
    exchanges = Exchange.objects.order_by("pk")
    assert [str(exchange.public_id) for exchange in exchanges] == [a["id"] for a in answers]
    assert {exchange.status for exchange in exchanges} == {ExchangeStatus.DELIVERED}
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 9
    assert {d.recipient.username for d in Delivery.objects.select_related("recipient")} == {
        "clerk",
        "clerk2",
        "prosecutor",
    }
    received = AuditEvent.objects.filter(action="ciss.exchange.received").order_by("seq")
    assert [event.object_id for event in received] == [answer["id"] for answer in answers]
    assert [event.details["person"] for event in received] == [a["person_id"] for a in answers]
    assert AuditEvent.objects.filter(action="ciss.exchange.delivered").count() == 3
    # The person's status counts both arrests.
    person = Person.objects.get(public_id=answers[0]["person_id"])
    assert "pending_case" in person.flags


def test_a_lot_queues_one_delivery_task(court: Court, monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.deliver_exchanges, "delay", lambda ids, **_: queued.append(ids))

    answers = _accept("together", _notices())

    ids = list(Exchange.objects.order_by("pk").values_list("pk", flat=True))
    assert queued == [ids]
    assert len(answers) == 3


def test_a_refused_record_refuses_the_lot_and_writes_nothing(court: Court) -> None:
    payloads = _notices()
    payloads[1]["subject"]["dl_state"] = "Connecticut"  # a state code is two letters

    items = [(payload, str(uuid.uuid4()), intake.body_hash(payload)) for payload in payloads]

    with pytest.raises(intake.InvalidExchange) as refused:
        intake._accept_together(items, _client())

    assert "subject.dl_state" in refused.value.body
    # The first notice's subject was written before the second was refused: undone.
    assert Person.objects.count() == 0
    assert Exchange.objects.count() == 0


def test_a_lot_writes_without_savepoints_of_its_own(court: Court) -> None:
    audit.record("password.changed", username="pat")  # the audit chain's head exists
    items = [(payload, str(uuid.uuid4()), intake.body_hash(payload)) for payload in _notices()]

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        intake.accept_arrests(items, _client())

    assert [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"]] == []
    assert Exchange.objects.count() == 3


def test_a_write_the_database_refuses_refuses_the_lot_then_each_is_accepted_alone(
    court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client()
    items = [(payload, str(uuid.uuid4()), intake.body_hash(payload)) for payload in _notices()]

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError('duplicate key value violates unique constraint "person_source"')

    with monkeypatch.context() as patched:
        patched.setattr(persons, "_write_new", refused)
        with pytest.raises(IntegrityError):
            intake._accept_together(items, client)
    assert (Person.objects.count(), Exchange.objects.count()) == (0, 0)

    with TestCase.captureOnCommitCallbacks(execute=True):
        answers = [intake._accept_alone(*item, client).answer for item in items]
    assert [answer["status"] for answer in answers] == ["accepted"] * 3
    assert Exchange.objects.count() == 3


def test_a_lot_answers_replays_from_one_look_up_of_its_keys(court: Court) -> None:
    client = _client()
    first, second, third = _notices()
    earlier = intake._accept_alone(first, "key-1", intake.body_hash(first), client)
    intake._accept_alone(second, "key-3", intake.body_hash(second), client)
    items = [
        (first, "key-1", intake.body_hash(first)),  # the same body again: a replay
        (third, "key-2", intake.body_hash(third)),  # new
        (third, "key-3", intake.body_hash(third)),  # key-3 named another body
    ]

    with CaptureQueriesContext(connection) as queries:
        replay, accepted, conflict = intake._accept_together(items, client)

    key_look_ups = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and '"idempotency_key" IN' in q["sql"]
    ]
    assert len(key_look_ups) == 1

    assert replay is not None
    assert replay.replayed
    assert replay.answer == earlier.answer
    assert accepted is not None
    assert not accepted.replayed
    assert conflict is None  # its own path answers 409
    assert Exchange.objects.count() == 3


def test_a_lot_routes_by_one_read_of_the_routing_book(
    court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[object] = []

    def read_book() -> routing.RoutingBook:
        reads.append(None)
        return routing.routing_book()

    monkeypatch.setattr(intake, "routing_book", read_book)

    answers = _accept("together", _notices())

    assert len(reads) == 1
    assert [len(answer["deliveries"]) for answer in answers] == [3, 3, 3]


def _accepted_undelivered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The three notices accepted together, their delivery task held back; their ids."""
    monkeypatch.setattr(tasks.deliver_exchanges, "delay", lambda *_, **__: None)
    _accept("together", _notices())
    monkeypatch.undo()
    return list(Exchange.objects.order_by("pk").values_list("pk", flat=True))


def test_a_lot_is_delivered_as_each_would_be(court: Court, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _accepted_undelivered(monkeypatch)
    InboxPreference.objects.create(user=court.clerk, alert=AlertChannel.EMAIL)
    court.prosecutor.is_active = False
    court.prosecutor.save()

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.deliver_exchanges(ids, alert_followers=True) == 3

    assert {e.status for e in Exchange.objects.all()} == {ExchangeStatus.DELIVERY_FAILED}
    states = Delivery.objects.values_list("recipient__username", "status", "last_error")
    assert sorted(set(states)) == [
        ("clerk", DeliveryStatus.DELIVERED, ""),
        ("clerk2", DeliveryStatus.DELIVERED, ""),
        ("prosecutor", DeliveryStatus.FAILED, delivery.DISABLED_RECIPIENT),
    ]
    events = AuditEvent.objects.filter(action="ciss.exchange.delivered").order_by("seq")
    exchanges = {e.pk: str(e.public_id) for e in Exchange.objects.all()}
    assert [event.object_id for event in events] == [exchanges[pk] for pk in ids]
    assert all(
        event.details == {"delivered": ["clerk", "clerk2"], "failed": ["prosecutor"]}
        for event in events
    )
    assert len(mail.outbox) == 3  # the clerk asked for e-mail, once per exchange
    # Run again (a redelivered message): nothing more happens.
    assert tasks.deliver_exchanges(ids, alert_followers=True) == 0
    assert AuditEvent.objects.filter(action="ciss.exchange.delivered").count() == 3


def test_a_lot_alerts_only_the_followers_of_what_it_names(
    court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _accepted_undelivered(monkeypatch)
    follower = UserFactory.create(
        username="follower",
        agency=court.police,
        roles=[Role.OFFICER],
        claims=[Claim.CRIMINAL_HISTORY],
    )
    okafor = Person.objects.get(exchanges__pk=ids[1])
    subscriptions.follow_person(user=follower, person=okafor)

    with TestCase.captureOnCommitCallbacks(execute=True):
        tasks.deliver_exchanges(ids, alert_followers=True)

    [alert] = SubscriptionAlert.objects.filter(subscription__user=follower)
    assert alert.exchange_public_id == Exchange.objects.get(pk=ids[1]).public_id


def test_a_lot_that_cannot_be_delivered_together_is_delivered_one_by_one(
    court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _accepted_undelivered(monkeypatch)
    calls: list[list[int]] = []
    real = delivery.exchanges_deliver

    def fails_for_lots(*, exchange_ids: list[int]) -> list[int]:
        calls.append(exchange_ids)
        if len(exchange_ids) > 1:
            raise RuntimeError("deadlock detected")
        return real(exchange_ids=exchange_ids)

    monkeypatch.setattr(delivery, "exchanges_deliver", fails_for_lots)

    with TestCase.captureOnCommitCallbacks(execute=True):
        tasks.deliver_exchanges(ids)

    assert calls == [ids, [ids[0]], [ids[1]], [ids[2]]]
    assert {e.status for e in Exchange.objects.all()} == {ExchangeStatus.DELIVERED}


def _waiting(batcher: Batcher, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(batcher._queue) < count:
        assert time.monotonic() < deadline, "the requests did not gather"
        time.sleep(0.001)


class _Calls:
    """Fake accepting functions that record what the batcher hands them."""

    def __init__(self, *, fail_together: bool = False) -> None:
        self.alone: list[str] = []
        self.lots: list[list[str]] = []
        self.fail_together = fail_together
        self.first_started = threading.Event()
        self.release_first = threading.Event()

    def accept_alone(self, payload: dict[str, Any], key: str, *_: Any) -> str:
        if not self.alone:
            self.first_started.set()
            self.release_first.wait(5)
        self.alone.append(key)
        if payload.get("refuse"):
            raise ValueError(f"refused {key}")
        return f"alone:{key}"

    def accept_many(self, items: list[tuple[dict[str, Any], str, str]], _: Any) -> list[str]:
        keys = [key for _, key, _ in items]
        self.lots.append(keys)
        if self.fail_together:
            raise RuntimeError("the lot cannot be accepted together")
        return [f"lot:{key}" for key in keys]


class _Client:
    def __init__(self, pk: int) -> None:
        self.pk = pk


def _run(
    batcher: Batcher, calls: _Calls, requests: list[tuple[str, dict[str, Any], int]]
) -> dict[str, Any]:
    """The first request starts alone and is held until the others wait behind it."""
    answers: dict[str, Any] = {}

    def submit(key: str, payload: dict[str, Any], client: int) -> None:
        try:
            answers[key] = batcher.submit(payload, key=key, digest="", api_client=_Client(client))  # type: ignore[arg-type]
        except ValueError as error:
            answers[key] = error

    def start(key: str, payload: dict[str, Any], client: int) -> threading.Thread:
        thread = threading.Thread(target=submit, args=(key, payload, client))
        thread.start()
        return thread

    first_key, first_payload, first_client = requests[0]
    threads = [start(first_key, first_payload, first_client)]
    assert calls.first_started.wait(5)
    for key, payload, client in requests[1:]:
        threads.append(start(key, payload, client))
    _waiting(batcher, len(requests) - 1)
    calls.release_first.set()
    for thread in threads:
        thread.join(5)
    return answers


def _batcher(calls: _Calls, limit: int = 50) -> Batcher:
    return Batcher(calls.accept_many, calls.accept_alone, lambda: limit)


def _incident(number: int, **more: Any) -> dict[str, Any]:
    return {"incident_number": f"2026-{number:06d}", **more}


def test_a_lone_request_is_accepted_alone() -> None:
    calls = _Calls()
    calls.release_first.set()
    batcher = _batcher(calls)

    assert batcher.submit({}, key="k1", digest="", api_client=_Client(1)) == "alone:k1"  # type: ignore[arg-type]
    assert calls.lots == []
    assert batcher._queue == []
    assert not batcher._leading


def test_requests_arriving_meanwhile_are_accepted_together() -> None:
    calls = _Calls()
    batcher = _batcher(calls)
    requests = [(f"k{n}", _incident(n), 1) for n in range(1, 5)]

    answers = _run(batcher, calls, requests)

    assert answers == {"k1": "alone:k1", "k2": "lot:k2", "k3": "lot:k3", "k4": "lot:k4"}
    assert calls.lots == [["k2", "k3", "k4"]]
    assert batcher.lots == 1
    assert not batcher._leading


def test_a_lot_holds_one_client_one_key_and_one_incident_each() -> None:
    calls = _Calls()
    batcher = _batcher(calls)
    requests = [
        ("k1", _incident(1), 1),
        ("k2", _incident(2), 1),
        ("k3", _incident(3), 2),  # another client
        ("k4", _incident(2), 1),  # the incident of k2 again
        ("k5", _incident(5), 1),
    ]

    answers = _run(batcher, calls, requests)

    assert calls.lots[0] == ["k2", "k5"]
    # Those left out keep their places: k3 leads alone, then k4 alone.
    assert answers["k3"] == "alone:k3"
    assert answers["k4"] == "alone:k4"
    assert set(answers) == {"k1", "k2", "k3", "k4", "k5"}


def test_a_lot_is_at_most_the_limit() -> None:
    calls = _Calls()
    batcher = _batcher(calls, limit=2)
    requests = [(f"k{n}", _incident(n), 1) for n in range(1, 7)]

    answers = _run(batcher, calls, requests)

    assert calls.lots == [["k2", "k3"], ["k4", "k5"]]
    assert answers["k6"] == "alone:k6"


def test_a_lot_that_fails_sends_each_request_its_own_way() -> None:
    calls = _Calls(fail_together=True)
    batcher = _batcher(calls)
    requests = [
        ("k1", _incident(1), 1),
        ("k2", _incident(2), 1),
        ("k3", _incident(3, refuse=True), 1),
        ("k4", _incident(4), 1),
    ]

    answers = _run(batcher, calls, requests)

    assert calls.lots == [["k2", "k3", "k4"]]
    assert answers["k2"] == "alone:k2"
    assert isinstance(answers["k3"], ValueError)  # its own refusal, to its own request
    assert answers["k4"] == "alone:k4"
    assert batcher.lots == 0
    assert not batcher._leading


def test_a_refused_leader_still_hands_on_the_lead() -> None:
    calls = _Calls()
    batcher = _batcher(calls)
    requests = [("k1", _incident(1, refuse=True), 1), ("k2", _incident(2), 1)]

    answers = _run(batcher, calls, requests)

    assert isinstance(answers["k1"], ValueError)
    assert answers["k2"] == "alone:k2"
    assert not batcher._leading


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_notices_through_intake_are_accepted_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    court_setup()
    client = _client()
    held = threading.Event()
    started = threading.Event()
    alone: Callable[..., Any] = intake._accept_alone

    def first_waits(*args: Any) -> Any:
        if not started.is_set():
            started.set()
            held.wait(10)
        return alone(*args)

    batcher = Batcher(intake._accept_together, first_waits, lambda: 50)
    monkeypatch.setattr(intake, "_batcher", batcher)
    payloads = [notice(incident_number=f"2026-{900 + n:06d}") for n in range(6)]
    keys = [str(uuid.uuid4()) for _ in payloads]
    # The first, held; the five others and a replay of three of them while it is accepted.
    requests = [0, 1, 2, 3, 4, 5, 1, 2, 3]
    answers: dict[int, Any] = {}

    def submit(index: int) -> None:
        which = requests[index]
        try:
            answers[index] = intake.exchange_submit(
                payload=payloads[which], idempotency_key=keys[which], api_client=client
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(0,))]
    threads[0].start()
    assert started.wait(10)
    for index in range(1, len(requests)):
        threads.append(threading.Thread(target=submit, args=(index,)))
        threads[-1].start()
    _waiting(batcher, len(requests) - 1)
    held.set()
    for thread in threads:
        thread.join(30)

    assert len(answers) == 9
    assert batcher.lots >= 1
    assert Exchange.objects.count() == 6
    assert Delivery.objects.count() == 18
    by_key: dict[str, set[str]] = {}
    for index, submission in answers.items():
        by_key.setdefault(keys[requests[index]], set()).add(submission.answer["id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    assert sum(submission.replayed for submission in answers.values()) == 3
    # The six arrests are of one person (one name and date of birth).
    assert Person.objects.count() == 1
    assert Case.objects.count() == 6
