"""The OBTS feed kinds: court cases (with their charges), sentences, custody, supervision,
protective orders, warrants, sex offender registrations and infractions."""

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.db.models import Q
from rest_framework import serializers

from obts.models import (
    Case,
    Charge,
    CustodyPeriod,
    Infraction,
    Person,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    Warrant,
)
from obts.services.feeds import FeedKind, IntakeContext, RecordKey, Write, register_feed_kind
from obts.services.fields import SourceRef
from obts.services.record_schemas import (
    CHARGE_FIELDS,
    CaseFeedSerializer,
    CustodyFeedSerializer,
    InfractionFeedSerializer,
    ProtectiveOrderFeedSerializer,
    RegistrationFeedSerializer,
    SentenceFeedSerializer,
    SupervisionFeedSerializer,
    WarrantFeedSerializer,
)
from obts.timecalc import person_sentences_recalculate
from portal.bulk_insert import bulk_insert

logger = logging.getLogger(__name__)

_CHARGE_DEFAULTS = {
    name: Charge._meta.get_field(name).get_default()  # type: ignore[union-attr]
    for name in CHARGE_FIELDS
}


class CaseKind(FeedKind):
    """A court case with its charges. The charges sent replace the stored ones."""

    name = "cases"
    model = Case
    serializer_class = CaseFeedSerializer
    summary = "Court cases with their charges (the charges sent replace those stored)."
    prefetch = ("charges",)
    special_fields = frozenset({"person", "charges"})

    def values(self, data: dict[str, Any], context: IntakeContext) -> dict[str, Any]:
        values = super().values(data, context)
        charges = []
        for position, charge in enumerate(data.get("charges") or [], start=1):
            row = {**_CHARGE_DEFAULTS, "sequence": position, **charge}
            charges.append(row)
        values["charges"] = sorted(charges, key=lambda row: row["sequence"])
        return values

    def is_same(self, instance: Any, values: dict[str, Any]) -> bool:
        own = _without_charges(values)
        stored = [
            {name: getattr(c, name) for name in CHARGE_FIELDS} for c in instance.charges.all()
        ]
        return super().is_same(instance, own) and stored == values["charges"]

    def write_many(self, writes: list[Write]) -> list[Any]:
        cases = super().write_many(
            [replace(write, values=_without_charges(write.values)) for write in writes]
        )
        updated = [case.pk for write, case in zip(writes, cases, strict=True) if write.instance]
        if updated:
            Charge.objects.filter(case_id__in=updated).delete()
        charges = bulk_insert(
            [
                Charge(case=case, **charge)
                for write, case in zip(writes, cases, strict=True)
                for charge in write.values["charges"]
            ]
        )
        by_case: dict[int, list[Charge]] = {case.pk: [] for case in cases}
        for charge in charges:
            by_case[charge.case_id].append(charge)
        for case in cases:
            case._prefetched_objects_cache = {
                **getattr(case, "_prefetched_objects_cache", {}),
                "charges": by_case[case.pk],
            }
        return cases

    def audit_details(self, instance: Any) -> dict[str, Any]:
        return {
            "docket_number": instance.docket_number,
            "incident_number": instance.incident_number,
        }


def _without_charges(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name != "charges"}


class SentenceKind(FeedKind):
    """A sentence as imposed. Its dates are computed by ``obts.timecalc`` after every
    change of the person's sentences. ``case`` and ``consecutive_to`` name other records
    by source id (the sentence's own source system unless given); both must be the same
    person's."""

    name = "sentences"
    model = Sentence
    serializer_class = SentenceFeedSerializer
    summary = "Sentences (dates are computed: start, maximum release, supervision end)."
    special_fields = frozenset({"person", "case", "consecutive_to"})
    # A sentence may follow another of the same batch: each needs the one before written.
    bulk_writes = False

    def prepare(self, records: Sequence[dict[str, Any]], context: IntakeContext) -> None:
        context.extra["cases"] = _by_key(Case, _refs(records, "case"))
        context.extra["sentences"] = _by_key(Sentence, _refs(records, "consecutive_to"))

    def values(self, data: dict[str, Any], context: IntakeContext) -> dict[str, Any]:
        values = super().values(data, context)
        person_id = values["person_id"]
        system = data["source_system"]
        errors: dict[str, list[str]] = {}

        values["case_id"] = None
        if (ref := data.get("case")) is not None:
            key = (ref.source_system or system, ref.source_id)
            case = context.extra["cases"].get(key)
            if case is None:
                errors["case"] = [f"No case {_describe(key)} is known."]
            elif case[1] != person_id:
                errors["case"] = [f"The case {_describe(key)} is another person's."]
            else:
                values["case_id"] = case[0]

        values["consecutive_to_id"] = None
        if (ref := data.get("consecutive_to")) is not None:
            key = (ref.source_system or system, ref.source_id)
            previous = _sentence_for(key, context)
            if key == (system, data["source_id"]):
                errors["consecutive_to"] = ["A sentence cannot be consecutive to itself."]
            elif previous is None:
                errors["consecutive_to"] = [f"No sentence {_describe(key)} is known."]
            elif previous[1] != person_id:
                errors["consecutive_to"] = [f"The sentence {_describe(key)} is another person's."]
            else:
                values["consecutive_to_id"] = previous[0]
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def after_change(self, persons: list[Person]) -> None:
        for person in persons:
            try:
                with transaction.atomic():
                    person_sentences_recalculate(person)
            except OverflowError:
                # A consecutive chain running past the year 9999: the records are kept,
                # the dates stay as they were, and someone must look at the chain.
                logger.exception("Sentence dates of person %s overflow", person.public_id)


def _refs(records: Sequence[dict[str, Any]], field: str) -> set[RecordKey]:
    keys = set()
    for data in records:
        ref = data.get(field)
        if isinstance(ref, SourceRef):
            keys.add((ref.source_system or data["source_system"], ref.source_id))
    return keys


def _by_key(model: type[Case] | type[Sentence], keys: set[RecordKey]) -> dict[RecordKey, Any]:
    """(pk, person pk) of the stored records with these keys, in one query."""
    if not keys:
        return {}
    condition = Q()
    for system, source_id in keys:
        condition |= Q(source_system=system, source_id=source_id)
    rows = model._default_manager.filter(condition).values_list(
        "source_system", "source_id", "pk", "person_id"
    )
    return {(system, source_id): (pk, person) for system, source_id, pk, person in rows}


def _sentence_for(key: RecordKey, context: IntakeContext) -> tuple[int, int] | None:
    written = context.stored.get(key)  # earlier in this batch
    if written is not None:
        return (written.pk, written.person_id)
    found: tuple[int, int] | None = context.extra["sentences"].get(key)
    return found


def _describe(key: RecordKey) -> str:
    return f"with source_id {key[1]!r} from {key[0]!r}"


class CustodyKind(FeedKind):
    name = "custody"
    model = CustodyPeriod
    serializer_class = CustodyFeedSerializer
    summary = "Custody periods (Department of Correction): admission to release."


class SupervisionKind(FeedKind):
    name = "supervision"
    model = Supervision
    serializer_class = SupervisionFeedSerializer
    summary = "Probation (CSSD), parole and special parole (BOPP)."


class ProtectiveOrderKind(FeedKind):
    name = "protective-orders"
    model = ProtectiveOrder
    serializer_class = ProtectiveOrderFeedSerializer
    summary = "Protective and restraining orders; the person is the respondent."


class WarrantKind(FeedKind):
    name = "warrants"
    model = Warrant
    serializer_class = WarrantFeedSerializer
    summary = "Warrants (paperless re-arrest and others); an active one makes the person wanted."


class RegistrationKind(FeedKind):
    name = "registrations"
    model = Registration
    serializer_class = RegistrationFeedSerializer
    summary = "Sex offender registrations."


class InfractionKind(FeedKind):
    name = "infractions"
    model = Infraction
    serializer_class = InfractionFeedSerializer
    summary = "Infraction tickets (Central Infractions Bureau)."


OBTS_FEED_KINDS: tuple[FeedKind, ...] = (
    CaseKind(),
    SentenceKind(),
    CustodyKind(),
    SupervisionKind(),
    ProtectiveOrderKind(),
    WarrantKind(),
    RegistrationKind(),
    InfractionKind(),
)


def register_obts_feed_kinds() -> None:
    for kind in OBTS_FEED_KINDS:
        register_feed_kind(kind)
