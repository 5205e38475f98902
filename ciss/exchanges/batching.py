"""Arrest notices that arrive together are accepted together.

A web process serves several requests at once (gunicorn's threads). Accepting a notice
alone costs some twenty statements and most of a request's CPU: the subject matched and
written, the case and charges, the status refresh, the exchange, its deliveries and audit
row, a commit and a broker message. When notices of one client arrive while another is
being accepted, they wait for it, and the next of them then accepts all that waited in one
transaction (:func:`ciss.exchanges.intake.accept_arrests`): one ``persons_upsert``, one
``feed_records_upsert``, one insert of exchanges and one of deliveries, one commit and one
delivery task, for the lot. Each request still gets its own answer, the same as alone.

A request that meets nobody (the usual case at a quiet hour) is accepted alone, as
before. So is every request of a lot that could not be accepted together (a record one of
them names is refused, another process took one of their keys): the lot is rolled back
and each request then takes its own path, so that its answer, error or replay is exactly
what it would have been alone. Nothing is ever accepted twice: the idempotency key's
unique constraint holds either way.

A lot holds notices of one API client, of distinct keys and incident numbers (two
notices about one incident are accepted one after the other, the second seeing the
first), at most ``CISS_INTAKE_BATCH_LIMIT`` of them.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from portal.models import ApiClient


@dataclass(eq=False)
class Waiting:
    payload: dict[str, Any]
    key: str
    digest: str
    api_client: ApiClient
    done: threading.Event = field(default_factory=threading.Event)
    answer: Any = None  # what the lot gave it; None: take your own path
    lead: bool = False  # woken to accept the next lot


AcceptMany = Callable[[list[tuple[dict[str, Any], str, str]], ApiClient], list[Any]]
AcceptAlone = Callable[[dict[str, Any], str, str, ApiClient], Any]


class Batcher:
    """Requests of one process meet here; see the module's description. ``accept_many``
    takes a lot's (payload, key, digest) items and their client and accepts them in one
    transaction, returning one answer each, in order, or raising when they cannot be
    accepted together; ``accept_alone`` takes one request as if there were no batcher (its
    own transaction, its own errors).

    One lot is accepted at a time in a process: a request that arrives meanwhile waits
    for it, and when it is done the first waiting request leads the next lot. A lot of
    one is accepted alone, still as the lot of its time, so that the requests arriving
    meanwhile gather behind it."""

    def __init__(
        self, accept_many: AcceptMany, accept_alone: AcceptAlone, limit: Callable[[], int]
    ) -> None:
        self._accept_many = accept_many
        self._accept_alone = accept_alone
        self._limit = limit
        self._lock = threading.Lock()
        self._queue: list[Waiting] = []
        self._leading = False
        self.lots = 0  # lots of two or more accepted together (tests, benchmarks)

    def submit(
        self, payload: dict[str, Any], *, key: str, digest: str, api_client: ApiClient
    ) -> Any:
        """The request's answer (or the refusal ``accept_alone`` raises for it)."""
        item = Waiting(payload, key, digest, api_client)
        with self._lock:
            self._queue.append(item)
            leader = not self._leading
            self._leading = True
        if not leader:
            item.done.wait()
            if not item.lead:
                if item.answer is None:  # the lot could not be accepted together
                    return self._accept_alone(payload, key, digest, api_client)
                return item.answer
        return self._lead(item)

    def _lead(self, item: Waiting) -> Any:
        with self._lock:
            lot = self._take()
        try:
            if len(lot) == 1:
                return self._accept_alone(item.payload, item.key, item.digest, item.api_client)
            self._accept(lot)
        finally:
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._leading = False
            for other in lot:
                if other is not item:
                    other.done.set()
        if item.answer is None:
            return self._accept_alone(item.payload, item.key, item.digest, item.api_client)
        return item.answer

    def _take(self) -> list[Waiting]:
        """The first waiting request and those that can join it; the rest keep their
        places for the next lot."""
        first = self._queue[0]
        lot, rest = [first], []
        keys = {first.key}
        incidents = {first.payload.get("incident_number")}
        for other in self._queue[1:]:
            incident = other.payload.get("incident_number")
            if (
                len(lot) < self._limit()
                and other.api_client.pk == first.api_client.pk
                and other.key not in keys
                and incident not in incidents
            ):
                lot.append(other)
                keys.add(other.key)
                incidents.add(incident)
            else:
                rest.append(other)
        self._queue = rest
        return lot

    def _accept(self, lot: list[Waiting]) -> None:
        items = [(other.payload, other.key, other.digest) for other in lot]
        try:
            answers = self._accept_many(items, lot[0].api_client)
        except Exception:  # each request then takes its own path and gets its own answer
            return
        for other, answer in zip(lot, answers, strict=True):
            other.answer = answer
        self.lots += 1


def batch_limit() -> int:
    return int(settings.CISS_INTAKE_BATCH_LIMIT)
