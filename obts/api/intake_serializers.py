"""The person as ``POST /api/v1/persons/`` answers it: the person's id, status and flags,
identifying data, and the sending source's record as stored (its names, identifiers and
addresses)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from rest_framework import serializers

from obts.models import Address, IdentifierKind, Person, PersonName, PersonSource
from obts.services.persons import IDENTIFIER_FIELDS


class AliasOutSerializer(serializers.Serializer[Any]):
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    suffix = serializers.CharField()
    dob = serializers.DateField(allow_null=True)


class AddressOutSerializer(serializers.Serializer[Any]):
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    from_date = serializers.DateField(allow_null=True)
    to_date = serializers.DateField(allow_null=True)


class PersonUpsertedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="person.public_id")
    source_system = serializers.CharField(source="source.source_system")
    source_id = serializers.CharField(source="source.source_id")
    as_of = serializers.DateTimeField(source="source.as_of")
    received_at = serializers.DateTimeField(source="source.received_at")
    first_name = serializers.CharField(source="name.first_name")
    middle_name = serializers.CharField(source="name.middle_name")
    last_name = serializers.CharField(source="name.last_name")
    suffix = serializers.CharField(source="name.suffix")
    dob = serializers.DateField(source="name.dob", allow_null=True)
    sex = serializers.CharField(source="person.sex")
    race = serializers.CharField(source="person.race")
    height_in = serializers.IntegerField(source="person.height_in", allow_null=True)
    weight_lb = serializers.IntegerField(source="person.weight_lb", allow_null=True)
    eye_color = serializers.CharField(source="person.eye_color")
    hair_color = serializers.CharField(source="person.hair_color")
    scars_marks_tattoos = serializers.CharField(source="person.scars_marks_tattoos")
    caution = serializers.CharField(source="person.caution")
    sid = serializers.CharField(source="identifiers.sid")
    fbi_number = serializers.CharField(source="identifiers.fbi_number")
    dl_number = serializers.CharField(source="identifiers.dl_number")
    dl_state = serializers.CharField(source="identifiers.dl_state")
    doc_number = serializers.CharField(source="identifiers.doc_number")
    probation_number = serializers.CharField(source="identifiers.probation_number")
    parole_number = serializers.CharField(source="identifiers.parole_number")
    aliases = AliasOutSerializer(many=True)
    addresses = AddressOutSerializer(many=True)
    status = serializers.CharField(source="person.status")
    flags = serializers.ListField(child=serializers.CharField(), source="person.flags")
    result = serializers.CharField(read_only=True, help_text="created, updated, unchanged or stale")
    applied = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(read_only=True, required=False)
    match = serializers.DictField(
        read_only=True,
        required=False,
        help_text="For a new source record: how it was matched (rule sid, fbi, dl, "
        "name_dob or none) and the score.",
    )
    possible_duplicates = serializers.ListField(
        child=serializers.DictField(), read_only=True, required=False
    )


@dataclass
class _PersonView:
    person: Person
    source: PersonSource
    name: PersonName
    aliases: list[PersonName]
    identifiers: dict[str, str]
    addresses: list[Address]


def render_person(person: Person, source_key: tuple[str, str]) -> dict[str, Any]:
    """The answer body for one person record of source ``source_key``."""
    person = Person.objects.get(pk=person.pk)
    source = (
        PersonSource.objects.filter(source_system=source_key[0], source_id=source_key[1])
        .prefetch_related(
            Prefetch("names", queryset=PersonName.objects.order_by("pk")),
            "identifiers",
            Prefetch("addresses", queryset=Address.objects.order_by("pk")),
        )
        .get()
    )
    names = list(source.names.all())
    kinds = {str(kind): field for field, kind in IDENTIFIER_FIELDS.items()}
    identifiers = dict.fromkeys([*IDENTIFIER_FIELDS, "dl_state"], "")
    for identifier in source.identifiers.all():
        identifiers[kinds[identifier.kind]] = identifier.value
        if identifier.kind == IdentifierKind.DRIVERS_LICENSE:
            identifiers["dl_state"] = identifier.state
    view = _PersonView(
        person=person,
        source=source,
        name=names[0] if names else PersonName(),
        aliases=names[1:],
        identifiers=identifiers,
        addresses=list(source.addresses.all()),
    )
    return dict(PersonUpsertedSerializer(view).data)
