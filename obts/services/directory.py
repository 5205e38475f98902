"""Resolving the persons a batch of records names, in a handful of queries for the whole
batch (never one per record)."""

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from rest_framework import serializers

from obts.models import IdentifierKind, Person, PersonIdentifier
from obts.services.fields import PersonRef

_IDENTIFIER_KINDS = {"sid": IdentifierKind.SID, "fbi": IdentifierKind.FBI}
# Merges are normally flattened (a survivor is never itself merged); follow a few hops in
# case one was not.
_MAX_MERGE_HOPS = 5


@dataclass(frozen=True)
class ResolvedPerson:
    pk: int
    public_id: UUID


class PersonDirectory:
    """The persons named by a batch's ``person`` references, resolved once.

    A person merged into another resolves to the survivor. An identifier that several
    (unmerged) persons carry is ambiguous and refused, naming how to be precise.
    """

    def __init__(self) -> None:
        self._found: dict[PersonRef, ResolvedPerson] = {}
        self._problems: dict[PersonRef, str] = {}

    @classmethod
    def resolve(cls, refs: Iterable[PersonRef]) -> "PersonDirectory":
        directory = cls()
        wanted = set(refs)
        by_id = {ref for ref in wanted if ref.kind == "id"}
        if by_id:
            rows = Person.objects.filter(public_id__in=[ref.value for ref in by_id]).values_list(
                "public_id", "pk", "merged_into_id"
            )
            pks = {str(public_id): (pk, merged) for public_id, pk, merged in rows}
            survivors = _survivors({merged for _, merged in pks.values() if merged})
            for ref in by_id:
                if ref.value not in pks:
                    directory._problems[ref] = f"No person with id {ref.value} is known."
                    continue
                pk, merged = pks[ref.value]
                final = survivors.get(merged) if merged else None
                directory._found[ref] = final or ResolvedPerson(pk, UUID(ref.value))

        for ref_kind, identifier_kind in _IDENTIFIER_KINDS.items():
            refs_of_kind = {ref for ref in wanted if ref.kind == ref_kind}
            if not refs_of_kind:
                continue
            holders: dict[str, set[tuple[int, UUID, int | None]]] = {}
            for value, holder, public_id, merged_into in PersonIdentifier.objects.filter(
                kind=identifier_kind, value__in=[ref.value for ref in refs_of_kind]
            ).values_list("value", "person_id", "person__public_id", "person__merged_into_id"):
                holders.setdefault(value, set()).add((holder, public_id, merged_into))
            survivors = _survivors(
                {merged for rows in holders.values() for _, _, merged in rows if merged}
            )
            for ref in refs_of_kind:
                persons = {
                    (survivors.get(merged) if merged else None) or ResolvedPerson(pk, public_id)
                    for pk, public_id, merged in holders.get(ref.value, set())
                }
                if not persons:
                    directory._problems[ref] = f"No person with {ref.describe()} is known."
                elif len(persons) > 1:
                    directory._problems[ref] = (
                        f"{ref.describe()} is carried by {len(persons)} persons: name the "
                        'person by {"id": ...} instead.'
                    )
                else:
                    directory._found[ref] = persons.pop()
        return directory

    def get(self, ref: PersonRef) -> ResolvedPerson | None:
        return self._found.get(ref)

    def require(self, ref: PersonRef, field: str = "person") -> ResolvedPerson:
        """The person ``ref`` names, or a field error under ``field``."""
        found = self._found.get(ref)
        if found is None:
            problem = self._problems.get(ref, f"No person with {ref.describe()} is known.")
            raise serializers.ValidationError({field: [problem]})
        return found


def _survivors(merged_pks: set[int]) -> dict[int, ResolvedPerson]:
    """For persons others were merged into: the final survivor of each."""
    result: dict[int, ResolvedPerson] = {}
    pending = {pk: pk for pk in merged_pks}  # person we look at -> person asked about
    for _ in range(_MAX_MERGE_HOPS):
        if not pending:
            break
        rows = Person.objects.filter(pk__in=list(pending)).values_list(
            "pk", "public_id", "merged_into_id"
        )
        following: dict[int, int] = {}
        for pk, public_id, merged in rows:
            asked = pending[pk]
            if merged:
                following[merged] = asked
            else:
                result[asked] = ResolvedPerson(pk, public_id)
        pending = following
    return result
