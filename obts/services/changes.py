"""Who hears of records that changed, without obts knowing who they are.

The intakes (``persons_upsert``, ``feed_records_upsert``) call :func:`records_changed`
with the records they applied (created or updated; never unchanged, stale or rejected
ones). Each registered listener is called once the transaction commits, so a rolled-back
change is never announced, and a listener never runs inside the intake's transaction.

Another app registers a listener from its ``AppConfig.ready()`` (CISS alerts the people
who follow a person, a plate or a case), so obts never imports it. A listener should be
quick — queue a task with ids — and must not raise: the records are committed by then, so
an error is logged and the other listeners still run.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

SourceKey = tuple[str, str]


@dataclass(frozen=True)
class RecordsChange:
    """Records of one ``kind`` (``persons``, ``cases``, ``vehicles``...) applied by one
    request: the stored instances (for ``persons``, the ``Person`` each record is linked
    to), each record's ``(source_system, source_id)`` in the same order, and the persons
    whose records changed."""

    kind: str
    person_ids: frozenset[int]
    records: tuple[Any, ...]
    sources: tuple[SourceKey, ...]


ChangeListener = Callable[[RecordsChange], None]
_LISTENERS: list[ChangeListener] = []


def register_change_listener(listener: ChangeListener) -> None:
    """Call ``listener`` with every committed change. Registering it again does nothing."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def unregister_change_listener(listener: ChangeListener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


def records_changed(
    kind: str,
    person_ids: set[int],
    records: list[Any],
    *,
    sources: Iterable[SourceKey] | None = None,
) -> None:
    """Announce, once the transaction commits, that ``records`` of ``kind`` were applied.
    ``sources`` defaults to each record's own ``source_system`` and ``source_id``."""
    if not records and not person_ids:
        return
    if sources is None:
        sources = [(record.source_system, record.source_id) for record in records]
    change = RecordsChange(
        kind=kind,
        person_ids=frozenset(person_ids),
        records=tuple(records),
        sources=tuple(sources),
    )
    for listener in _LISTENERS:
        transaction.on_commit(_announce(listener, change), robust=True)


def _announce(listener: ChangeListener, change: RecordsChange) -> Callable[[], None]:
    # A function, not functools.partial: Django names a failing on-commit callback by
    # its __qualname__, which a partial lacks.
    def announce() -> None:
        listener(change)

    announce.__qualname__ = f"records_changed → {getattr(listener, '__qualname__', listener)}"
    return announce
