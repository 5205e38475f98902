"""Merging two persons of the master name index, undoing a merge, and dismissing a
possible duplicate (each one transaction that ends with its audit row), and the reads of
the review pages.

A merge moves every record of the ``merged`` person to the ``survivor`` and points
``merged.merged_into`` at the survivor; nothing is deleted. ``PersonMerge.moved`` keeps
what the undo needs:

- one key per record kind (``RECORD_KINDS``, the related names on ``Person``, and the
  kinds other apps add with ``register_person_records``): the ids of the rows moved;
- ``primary_names``: ids of the merged person's names that were primary (they become
  aliases of the survivor);
- ``survivor_fields``: identifying fields of the survivor the merge filled in or
  extended, with their previous values (so a caution on the merged person is never
  hidden from officers by the merge);
- ``duplicates``: ids of the possible-duplicate items the merge resolved.

The reviewer's reason is kept on the ``PersonMerge`` (``reason``, and ``undo_reason`` once
undone) as well as in the audit row. After records move, sentence dates are recomputed
(``obts.timecalc``) for every person whose sentences changed: a consecutive sentence may
follow a sentence that just moved to, or away from, its person.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from obts.models import (
    Address,
    Case,
    CustodyPeriod,
    DuplicateStatus,
    Infraction,
    Person,
    PersonIdentifier,
    PersonMerge,
    PersonName,
    PersonSource,
    PossibleDuplicate,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    Warrant,
)
from obts.status import person_recompute
from obts.timecalc import person_sentences_recalculate
from portal import audit
from portal.models import User

logger = logging.getLogger(__name__)

PERSON_MERGED = "obts.person.merged"
PERSON_MERGE_UNDONE = "obts.person.merge_undone"
DUPLICATE_DISMISSED = "obts.duplicate.dismissed"

# The obts models that belong to a person, by their related name on Person (other apps add
# theirs with register_person_records).
RECORD_KINDS: dict[str, type[models.Model]] = {
    "sources": PersonSource,
    "names": PersonName,
    "identifiers": PersonIdentifier,
    "addresses": Address,
    "cases": Case,
    "sentences": Sentence,
    "custody_periods": CustodyPeriod,
    "supervisions": Supervision,
    "protective_orders": ProtectiveOrder,
    "warrants": Warrant,
    "registrations": Registration,
    "infractions": Infraction,
}
# Keys of ``PersonMerge.moved`` that are not record kinds.
_MOVED_KEYS = frozenset({"primary_names", "survivor_fields", "duplicates"})
# Models of other apps that belong to a person (CISS vehicles, incident roles, property),
# registered from their AppConfig.ready() so that obts never imports those apps.
_REGISTERED_KINDS: dict[str, type[models.Model]] = {}


def register_person_records(related_name: str, model: type[models.Model]) -> None:
    """Have merges (and their undo) move ``model``'s rows with the person: ``model`` must
    point at ``Person`` by a field named ``person`` whose related name is
    ``related_name`` (the key under which a merge records the ids it moved). Registering
    the same name again replaces the earlier registration. Refuses (``ValueError``) a
    model that does not point at a person that way, and a name that obts already uses."""
    relation = next(
        (rel for rel in Person._meta.related_objects if rel.get_accessor_name() == related_name),
        None,
    )
    if relation is None or relation.related_model is not model or relation.field.name != "person":
        raise ValueError(
            f"{model._meta.label}.person must be a foreign key to Person with "
            f"related_name={related_name!r}."
        )
    if related_name in RECORD_KINDS or related_name in _MOVED_KEYS:
        raise ValueError(f"{related_name!r} is already a key of the merge record.")
    _REGISTERED_KINDS[related_name] = model


def person_record_kinds() -> dict[str, type[models.Model]]:
    """Every model a merge moves, by its related name on Person: obts's own and those
    other apps registered."""
    return {**RECORD_KINDS, **_REGISTERED_KINDS}


# Identifying fields a merge fills in on the survivor when the survivor has none.
FILLED_FIELDS = (
    "sex",
    "race",
    "height_in",
    "weight_lb",
    "eye_color",
    "hair_color",
    "scars_marks_tattoos",
)


def _person_details() -> list[Prefetch[str, Any, str]]:
    names = PersonName.objects.order_by("-is_primary", "pk")
    identifiers = PersonIdentifier.objects.order_by("kind", "value")
    return [Prefetch("names", queryset=names), Prefetch("identifiers", queryset=identifiers)]


def duplicates_open() -> QuerySet[PossibleDuplicate]:
    """Open possible duplicates whose two persons are both still in the index (not merged
    away), newest first, with both persons' names and identifiers loaded."""
    people = Person.objects.prefetch_related(*_person_details())
    return (
        PossibleDuplicate.objects.filter(
            status=DuplicateStatus.OPEN,
            person__merged_into__isnull=True,
            candidate__merged_into__isnull=True,
        )
        .prefetch_related(
            Prefetch("person", queryset=people), Prefetch("candidate", queryset=people)
        )
        .order_by("-created_at", "-pk")
    )


def merges_recent() -> QuerySet[PersonMerge]:
    """Merges, newest first, with both persons' names and who did and undid them."""
    people = Person.objects.prefetch_related(*_person_details())
    return (
        PersonMerge.objects.select_related("performed_by", "undone_by")
        .prefetch_related(
            Prefetch("survivor", queryset=people), Prefetch("merged", queryset=people)
        )
        .order_by("-performed_at", "-pk")
    )


@dataclass(frozen=True)
class MergeRow:
    """A merge as the merges page shows it: the merged person's own names (they now sit
    on the survivor as aliases, so the merged person has none left to show)."""

    merge: PersonMerge
    merged_names: list[PersonName]


def merge_rows(merges: Iterable[PersonMerge]) -> list[MergeRow]:
    """``merges`` with the names each one moved, in one query."""
    merges = list(merges)
    wanted = {pk for merge in merges for pk in _ids(merge.moved.get("names", []))}
    names = PersonName.objects.filter(pk__in=wanted).order_by("-is_primary", "pk")
    by_id = {name.pk: name for name in names}
    rows = []
    for merge in merges:
        primary = set(_ids(merge.moved.get("primary_names", [])))
        own = [by_id[pk] for pk in _ids(merge.moved.get("names", [])) if pk in by_id]
        rows.append(
            MergeRow(merge, sorted(own, key=lambda name: (name.pk not in primary, name.pk)))
        )
    return rows


def merged_label(merge: PersonMerge) -> str:
    """The merged person's primary name before the merge (or its public id)."""
    primary = PersonName.objects.filter(pk__in=_ids(merge.moved.get("primary_names", [])))
    name = primary.order_by("pk").first()
    return str(name) if name else f"person {merge.merged.public_id}"


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give a reason: it is recorded in the audit log.")
    return reason


def _sentences_recalculate(person: Person) -> None:
    """Recompute the person's sentence dates, as the sentences feed does after a change.

    A consecutive chain whose dates run past the year 9999 keeps its stored dates and is
    logged for someone to look at, rather than blocking the merge or its undo (the feed
    does the same)."""
    try:
        person_sentences_recalculate(person)
    except OverflowError:
        logger.exception("Sentence dates of person %s overflow", person.public_id)


def _lock(*pks: int) -> dict[int, Person]:
    """The persons with ``pks``, locked in id order (so two reviewers cannot deadlock)."""
    return {
        person.pk: person
        for person in Person.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    }


def _pair(first: Person, second: Person) -> models.Q:
    return models.Q(person=first, candidate=second) | models.Q(person=second, candidate=first)


def _fill_survivor(survivor: Person, merged: Person) -> dict[str, Any]:
    """Copy what the survivor lacks from the merged person; add the merged person's
    caution to the survivor's. Returns the survivor's previous values of changed fields."""
    previous: dict[str, Any] = {}
    for name in FILLED_FIELDS:
        value = getattr(merged, name)
        if value not in (None, "") and getattr(survivor, name) in (None, ""):
            previous[name] = getattr(survivor, name)
            setattr(survivor, name, value)
    caution = merged.caution.strip()
    if caution and caution not in survivor.caution:
        previous["caution"] = survivor.caution
        survivor.caution = f"{survivor.caution.strip()}\n{caution}".strip()
    if previous:
        survivor.save(update_fields=[*previous, "updated_at"])
    return previous


@transaction.atomic
def person_merge(
    *,
    actor: User,
    survivor: Person,
    merged: Person,
    reason: str,
    request: HttpRequest | None = None,
) -> PersonMerge:
    """Merge ``merged`` into ``survivor``: move every record, make the merged person's
    names aliases, point ``merged.merged_into`` at the survivor, resolve open possible
    duplicates between the two, recompute the survivor's sentence dates (the merged
    person's sentences now chain with the survivor's), status and flags, audit. The
    reason is stored on the merge and in the audit row.

    Refuses (ValidationError) a person merged into itself, a survivor that was itself
    merged away, a person already merged, and an empty reason. Nothing is deleted.
    """
    reason = _reason(reason)
    if survivor.pk == merged.pk:
        raise ValidationError("A person cannot be merged into themselves.")
    locked = _lock(survivor.pk, merged.pk)
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if survivor.merged_into_id is not None:
        raise ValidationError(
            f"Person {survivor.public_id} was itself merged into another person: "
            "merge into the person it was merged into."
        )
    if merged.merged_into_id is not None:
        raise ValidationError(f"Person {merged.public_id} is already merged into another person.")

    kinds = person_record_kinds()
    moved: dict[str, Any] = {}
    for kind, model in kinds.items():
        rows = model._default_manager.filter(person=merged)
        ids = sorted(rows.values_list("pk", flat=True))
        rows.update(person=survivor)
        moved[kind] = ids
    primary = PersonName.objects.filter(pk__in=moved["names"], is_primary=True)
    moved["primary_names"] = sorted(primary.values_list("pk", flat=True))
    primary.update(is_primary=False)
    moved["survivor_fields"] = _fill_survivor(survivor, merged)

    now = timezone.now()
    open_duplicates = PossibleDuplicate.objects.filter(
        _pair(survivor, merged), status=DuplicateStatus.OPEN
    )
    moved["duplicates"] = sorted(open_duplicates.values_list("pk", flat=True))
    open_duplicates.update(status=DuplicateStatus.MERGED, resolved_at=now, resolved_by=actor)

    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])
    merge = PersonMerge.objects.create(
        survivor=survivor,
        merged=merged,
        moved=moved,
        reason=reason,
        performed_by=actor,
        performed_at=now,
    )
    _sentences_recalculate(survivor)
    person_recompute(survivor)
    audit.record(
        PERSON_MERGED,
        actor=actor,
        request=request,
        target=survivor,
        details={
            "survivor": str(survivor.public_id),
            "merged": str(merged.public_id),
            "moved": {kind: len(moved[kind]) for kind in kinds},
            "reason": reason,
        },
    )
    return merge


def _later_active_merge(merge: PersonMerge) -> PersonMerge | None:
    persons = (merge.survivor_id, merge.merged_id)
    return (
        PersonMerge.objects.filter(pk__gt=merge.pk, undone_at__isnull=True)
        .filter(models.Q(survivor_id__in=persons) | models.Q(merged_id__in=persons))
        .order_by("pk")
        .first()
    )


def _ids(value: Any) -> list[int]:
    return [int(pk) for pk in value] if isinstance(value, Iterable) else []


@transaction.atomic
def person_merge_undo(
    *,
    actor: User,
    merge: PersonMerge,
    reason: str,
    request: HttpRequest | None = None,
) -> PersonMerge:
    """Undo ``merge``: move exactly the recorded rows back to the merged person (records
    added to the survivor since stay with it), restore primary names and the survivor's
    identifying fields, clear ``merged_into``, reopen the possible duplicates the merge
    resolved, recompute both persons' sentence dates (each from its own sentences again),
    status and flags, store the reason on the merge, audit.

    Refuses (ValidationError) a merge already undone, a merge that a later, still active
    merge of either person depends on (undo that one first), and an empty reason.
    """
    reason = _reason(reason)
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError("This merge was already undone.")
    locked = _lock(merge.survivor_id, merge.merged_id)
    survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
    later = _later_active_merge(merge)
    if later is not None:
        raise ValidationError(
            f"A later merge (person {later.merged.public_id} into {later.survivor.public_id}) "
            "involves one of these persons and is still in effect: undo it first."
        )

    moved = merge.moved
    returned: dict[str, int] = {}
    # A kind registered after the merge was made has no ids in it: nothing to return.
    for kind, model in person_record_kinds().items():
        returned[kind] = model._default_manager.filter(
            pk__in=_ids(moved.get(kind, [])), person=survivor
        ).update(person=merged)
    PersonName.objects.filter(pk__in=_ids(moved.get("primary_names", [])), person=merged).update(
        is_primary=True
    )
    previous = moved.get("survivor_fields") or {}
    if previous:
        for name, value in previous.items():
            setattr(survivor, name, value)
        survivor.save(update_fields=[*previous, "updated_at"])
    PossibleDuplicate.objects.filter(
        pk__in=_ids(moved.get("duplicates", [])), status=DuplicateStatus.MERGED
    ).update(status=DuplicateStatus.OPEN, resolved_at=None, resolved_by=None)

    merged.merged_into = None
    merged.save(update_fields=["merged_into", "updated_at"])
    merge.undone_by = actor
    merge.undone_at = timezone.now()
    merge.undo_reason = reason
    merge.save(update_fields=["undone_by", "undone_at", "undo_reason"])
    _sentences_recalculate(survivor)
    _sentences_recalculate(merged)
    person_recompute(survivor)
    person_recompute(merged)
    audit.record(
        PERSON_MERGE_UNDONE,
        actor=actor,
        request=request,
        target=merged,
        details={
            "survivor": str(survivor.public_id),
            "merged": str(merged.public_id),
            "returned": returned,
            "reason": reason,
        },
    )
    return merge


@transaction.atomic
def duplicate_merge(
    *,
    actor: User,
    duplicate: PossibleDuplicate,
    survivor: Person,
    reason: str,
    request: HttpRequest | None = None,
) -> PersonMerge:
    """Merge the two persons of an open possible duplicate into ``survivor``, which must
    be one of them (see ``person_merge`` for what else is refused)."""
    duplicate = PossibleDuplicate.objects.select_for_update().get(pk=duplicate.pk)
    if duplicate.status != DuplicateStatus.OPEN:
        raise ValidationError("This possible duplicate was already resolved.")
    pair = {
        duplicate.person_id: duplicate.candidate_id,
        duplicate.candidate_id: duplicate.person_id,
    }
    if survivor.pk not in pair:
        raise ValidationError("The person kept must be one of the two possible duplicates.")
    merged = Person.objects.get(pk=pair[survivor.pk])
    return person_merge(
        actor=actor, survivor=survivor, merged=merged, reason=reason, request=request
    )


@transaction.atomic
def duplicate_dismiss(
    *,
    actor: User,
    duplicate: PossibleDuplicate,
    reason: str,
    request: HttpRequest | None = None,
) -> PossibleDuplicate:
    """Mark an open possible duplicate as two different people, audited. Refuses one
    already resolved and an empty reason."""
    reason = _reason(reason)
    duplicate = (
        PossibleDuplicate.objects.select_for_update(of=("self",))
        .select_related("person", "candidate")
        .get(pk=duplicate.pk)
    )
    if duplicate.status != DuplicateStatus.OPEN:
        raise ValidationError("This possible duplicate was already resolved.")
    duplicate.status = DuplicateStatus.DISMISSED
    duplicate.resolved_at = timezone.now()
    duplicate.resolved_by = actor
    duplicate.save(update_fields=["status", "resolved_at", "resolved_by"])
    audit.record(
        DUPLICATE_DISMISSED,
        actor=actor,
        request=request,
        object_type="obts.possibleduplicate",
        object_id=str(duplicate.pk),
        details={
            "person": str(duplicate.person.public_id),
            "candidate": str(duplicate.candidate.public_id),
            "score": duplicate.score,
            "reason": reason,
        },
    )
    return duplicate
