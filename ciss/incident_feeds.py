"""The ``incidents`` and ``property`` feed kinds of ``POST /api/v1/feeds/{kind}/``: police
incident reports with the people and vehicles named in them, and the firearms and
articles agencies report stolen, recovered or held.

Both go through the one upsert engine (``obts.services.feeds``). What is particular:

- a place is stored once, as a ``Location`` keyed by its normalised address
  (``obts.addresses``), so the incidents and property at one address, however typed, meet
  there (and person addresses share the key);
- an incident's ``people`` and ``vehicles`` lists replace the stored ones, as a case's
  charges do; a vehicle is linked to its registration when the plate and state are on
  file;
- property is linked to its incident by ``(agency_ori, incident_number)``, whichever of
  the two arrives first;
- neither kind changes anyone's status or flags (``obts.status`` reads cases, custody,
  supervision, orders, warrants and registrations only), so neither asks for a refresh.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ciss.models import (
    Incident,
    IncidentPerson,
    IncidentVehicle,
    Location,
    PropertyCategory,
    PropertyItem,
    Vehicle,
)
from ciss.plates import normalize_plate, plate_key
from ciss.serials import serial_key
from obts.addresses import NormalizedAddress, normalize_address
from obts.services.feeds import FeedKind, IntakeContext, Write
from obts.services.fields import (
    IntakeModelSerializer,
    OptionalTextField,
    PersonRef,
    PersonRefField,
    TextField,
)
from obts.services.record_schemas import PROVENANCE, SourceRecordSerializer
from portal.models.agencies import normalize_ori, validate_ori

# Clocks of the sending systems and ours differ a little; a time further ahead than this
# is a date typed wrong or a time-zone error, not an event that already happened.
CLOCK_DIFFERENCE = timedelta(minutes=5)
PEOPLE_LIMIT = 200
VEHICLES_LIMIT = 100

PlateKey = tuple[str, str]
IncidentKey = tuple[str, str]


# Fields ---------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "readOnly": True,
        "description": "The linked record, when there is one.",
        "properties": {"id": {"type": "string", "format": "uuid"}},
    }
)
class LinkField(serializers.Field):  # type: ignore[type-arg]
    """A record this one was linked to on intake (never sent): ``{"id": uuid}``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, str]:
        return {"id": str(value.public_id)}


def _agency_ori(value: str) -> str:
    ori = normalize_ori(value)
    try:
        validate_ori(ori)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from error
    return ori


def _state_code(value: str) -> str:
    state = value.strip().upper()
    if state and (len(state) != 2 or not state.isalpha()):
        raise serializers.ValidationError(
            "Give the state or province as its two-letter code (CT, NY, QC)."
        )
    return state


def _not_in_future(value: datetime | None) -> datetime | None:
    if value is not None and value > timezone.now() + CLOCK_DIFFERENCE:
        raise serializers.ValidationError(
            "This is in the future: check the date, and the sending system's clock and time zone."
        )
    return value


def _date_not_in_future(value: date | None) -> date | None:
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError("This date is in the future.")
    return value


# Locations ------------------------------------------------------------------------------

# The stored length of each part of a Location, to refuse what would not fit.
_LOCATION_LIMITS = {
    "street_number": ("line1", 20),
    "street_name": ("line1", 120),
    "unit": ("line2", 40),
    "city": ("city", 60),
}


class LocationFeedSerializer(serializers.Serializer[Any]):
    """A street address. Validated into its normalised form (``obts.addresses``); stored
    records answer with that form, so sending it back names the same place."""

    line1 = OptionalTextField(max_length=120, help_text="House number and street: 12 Main St.")
    line2 = OptionalTextField(max_length=120, help_text="Apartment, suite or floor.")
    city = OptionalTextField(max_length=60)
    state = OptionalTextField(max_length=2, help_text="Two-letter code.")
    postal_code = OptionalTextField(max_length=10)

    def validate_state(self, value: str) -> str:
        return _state_code(value)

    def validate(self, attrs: dict[str, Any]) -> NormalizedAddress:
        address = normalize_address(
            attrs.get("line1", ""),
            attrs.get("line2", ""),
            attrs.get("city", ""),
            attrs.get("state", ""),
            attrs.get("postal_code", ""),
        )
        errors: dict[str, list[str]] = {}
        if not (address.street_number or address.street_name):
            errors["line1"] = [
                "A location needs its street line; a place without one (a park, an "
                "intersection) goes in location_text."
            ]
        if not address.city:
            errors["city"] = ["Give the city or town: the same street runs through many."]
        for part, (field, limit) in _LOCATION_LIMITS.items():
            if len(getattr(address, part)) > limit:
                errors.setdefault(field, []).append(
                    f"Too long once normalised ({part.replace('_', ' ')} holds at most "
                    f"{limit} characters)."
                )
        if errors:
            raise serializers.ValidationError(errors)
        return address

    def to_representation(self, instance: Any) -> dict[str, str]:
        return {
            "line1": " ".join(p for p in (instance.street_number, instance.street_name) if p),
            "line2": instance.unit,
            "city": instance.city,
            "state": instance.state,
            "postal_code": instance.postal_code,
        }


def locations_ensure(addresses: Iterable[NormalizedAddress]) -> dict[str, Location]:
    """The ``Location`` of each address, by key, creating those not yet stored. Safe
    against a concurrent intake creating the same place (the insert skips conflicts and
    the rows are read back)."""
    wanted = {address.key: address for address in addresses}
    if not wanted:
        return {}
    found = {location.key: location for location in Location.objects.filter(key__in=wanted)}
    missing = [
        Location(
            key=key,
            street_number=address.street_number,
            street_name=address.street_name,
            unit=address.unit,
            city=address.city,
            state=address.state,
            postal_code=address.postal_code,
        )
        for key, address in wanted.items()
        if key not in found
    ]
    if missing:
        Location.objects.bulk_create(missing, ignore_conflicts=True)
        created = Location.objects.filter(key__in=[location.key for location in missing])
        found.update((location.key, location) for location in created)
    return found


def _location_key(instance: Any) -> str | None:
    location: Location | None = instance.location
    return location.key if location is not None else None


def _with_locations(writes: list[Write]) -> list[Write]:
    """The writes with each ``location`` address turned into its stored ``Location``."""
    locations = locations_ensure(
        write.values["location"] for write in writes if write.values["location"] is not None
    )
    resolved = []
    for write in writes:
        address: NormalizedAddress | None = write.values["location"]
        location = locations[address.key] if address is not None else None
        resolved.append(replace(write, values={**write.values, "location": location}))
    return resolved


def _own_values(kind: FeedKind, data: dict[str, Any]) -> dict[str, Any]:
    """The record's own fields as stored (absent ones take their default: a record is the
    source's whole current view)."""
    return {
        name: data[name] if name in data else field.get_default()
        for name, field in kind.content_fields()
    }


# Incidents ------------------------------------------------------------------------------


class IncidentPersonFeedSerializer(IntakeModelSerializer):
    person = PersonRefField(
        required=False,
        allow_null=True,
        help_text='When the person is in the master name index: {"id": ...}, {"sid": ...} '
        'or {"fbi_number": ...}. Otherwise give "name" (and "dob") as the report has them.',
    )

    class Meta:
        model = IncidentPerson
        fields = ["person", "name", "dob", "role"]

    def validate_dob(self, value: date | None) -> date | None:
        return _date_not_in_future(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("person") is None and not attrs.get("name"):
            raise serializers.ValidationError(
                {
                    "person": [
                        'Name the person by {"id": ...}, {"sid": ...} or {"fbi_number": '
                        '...}, or give their "name" as the report has it.'
                    ]
                }
            )
        return attrs


class IncidentVehicleFeedSerializer(IntakeModelSerializer):
    # Longer than stored: separators are dropped before the stored length applies.
    plate = OptionalTextField(
        max_length=30, help_text="As on the plate; spaces and dashes ignored."
    )
    plate_state = OptionalTextField(max_length=40, help_text="Two-letter state or province code.")
    vehicle = LinkField(help_text="The registered vehicle with this plate and state, if any.")

    class Meta:
        model = IncidentVehicle
        fields = ["plate", "plate_state", "description", "role", "vehicle"]

    def validate_plate(self, value: str) -> str:
        if not value:
            return ""
        try:
            return normalize_plate(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_plate_state(self, value: str) -> str:
        return _state_code(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("plate") and not attrs.get("description"):
            raise serializers.ValidationError(
                {"plate": ['Give the plate, or a "description" when no plate was seen.']}
            )
        return attrs


class IncidentFeedSerializer(SourceRecordSerializer):
    """One police incident report. ``people`` and ``vehicles`` replace those stored for
    the incident."""

    incident_number = TextField(max_length=40, help_text="The agency's number for the report.")
    # Longer than stored, so that a wrong ORI is told what an ORI looks like.
    agency_ori = TextField(max_length=20, help_text="The reporting agency: CT0006400.")
    location = LocationFeedSerializer(
        required=False,
        allow_null=True,
        help_text="Where it happened, when it has a street address.",
    )
    # max_length goes to the ListSerializer; the stubs do not know it.
    people = IncidentPersonFeedSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=PEOPLE_LIMIT,
        help_text="The people named in the report with their roles; they replace those "
        "stored for the incident.",
    )
    vehicles = IncidentVehicleFeedSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=VEHICLES_LIMIT,
        help_text="The vehicles named in the report with their roles; they replace those "
        "stored for the incident.",
    )

    class Meta:
        model = Incident
        fields = [
            *PROVENANCE,
            "incident_number",
            "agency_ori",
            "kind",
            "occurred_at",
            "reported_at",
            "location",
            "location_text",
            "summary",
            "docket_number",
            "status",
            "people",
            "vehicles",
        ]
        validators: list[Any] = []

    date_order = (("occurred_at", "reported_at"),)

    def validate_agency_ori(self, value: str) -> str:
        return _agency_ori(value)

    def validate_occurred_at(self, value: datetime | None) -> datetime | None:
        return _not_in_future(value)

    def validate_reported_at(self, value: datetime | None) -> datetime | None:
        return _not_in_future(value)


def _registered_vehicles(plates: set[PlateKey]) -> dict[PlateKey, int]:
    """The registered vehicle of each (plate key, state), in one query; where several
    registrations carry the plate, the one the source knew last."""
    if not plates:
        return {}
    condition = Q()
    for key, state in plates:
        condition |= Q(plate_key=key, plate_state=state)
    rows = (
        Vehicle.objects.filter(condition)
        .order_by("as_of", "pk")
        .values_list("plate_key", "plate_state", "pk")
    )
    return {(key, state): pk for key, state, pk in rows}


def _plate_of(vehicle: dict[str, Any]) -> PlateKey | None:
    if not vehicle.get("plate") or not vehicle.get("plate_state"):
        return None
    return (plate_key(vehicle["plate"]), vehicle["plate_state"])


_PERSON_ROW = ("person_id", "name", "dob", "role")
_VEHICLE_ROW = ("vehicle_id", "plate", "plate_key", "plate_state", "description", "role")
_NESTED = frozenset({"location", "people", "vehicles"})


class IncidentKind(FeedKind):
    """A police incident report with the people and vehicles it names."""

    name = "incidents"
    model = Incident
    serializer_class = IncidentFeedSerializer
    summary = (
        "Police incident reports: what happened, where and when, with the people (and "
        "their roles) and vehicles named; those sent replace those stored."
    )
    prefetch = ("location", "people__person", "vehicles__vehicle")
    special_fields = _NESTED

    def person_refs(self, data: dict[str, Any]) -> list[tuple[str, PersonRef]]:
        return [
            ("people", person["person"])
            for person in data.get("people") or []
            if isinstance(person.get("person"), PersonRef)
        ]

    def prepare(self, records: Sequence[dict[str, Any]], context: IntakeContext) -> None:
        plates = {
            plate
            for data in records
            for vehicle in data.get("vehicles") or []
            if (plate := _plate_of(vehicle)) is not None
        }
        context.extra["vehicles"] = _registered_vehicles(plates)

    def values(self, data: dict[str, Any], context: IntakeContext) -> dict[str, Any]:
        values = _own_values(self, data)
        values["location"] = data.get("location")
        people: list[dict[str, Any]] = []
        # Keyed by position in the list, as DRF keys the errors of a nested list.
        person_errors: dict[str, Any] = {}
        for position, person in enumerate(data.get("people") or []):
            person_id = None
            if (ref := person.get("person")) is not None:
                try:
                    person_id = context.persons.require(ref).pk
                except serializers.ValidationError as problem:
                    person_errors[str(position)] = problem.detail
            people.append(
                {
                    "person_id": person_id,
                    "name": person.get("name", ""),
                    "dob": person.get("dob"),
                    "role": person["role"],
                }
            )
        if person_errors:
            raise serializers.ValidationError({"people": person_errors})
        values["people"] = people
        registered: dict[PlateKey, int] = context.extra["vehicles"]
        vehicles = []
        for vehicle in data.get("vehicles") or []:
            plate = _plate_of(vehicle)
            vehicles.append(
                {
                    "vehicle_id": registered.get(plate) if plate else None,
                    "plate": vehicle.get("plate", ""),
                    "plate_key": plate_key(vehicle["plate"]) if vehicle.get("plate") else "",
                    "plate_state": vehicle.get("plate_state", ""),
                    "description": vehicle.get("description", ""),
                    "role": vehicle["role"],
                }
            )
        values["vehicles"] = vehicles
        return values

    def is_same(self, instance: Any, values: dict[str, Any]) -> bool:
        address: NormalizedAddress | None = values["location"]
        people = [
            {name: getattr(row, name) for name in _PERSON_ROW}
            for row in sorted(instance.people.all(), key=lambda row: row.pk)
        ]
        vehicles = [
            {name: getattr(row, name) for name in _VEHICLE_ROW}
            for row in sorted(instance.vehicles.all(), key=lambda row: row.pk)
        ]
        return (
            super().is_same(instance, _without(values, _NESTED))
            and _location_key(instance) == (address.key if address else None)
            and people == values["people"]
            and vehicles == values["vehicles"]
        )

    def write_many(self, writes: list[Write]) -> list[Any]:
        writes = _with_locations(writes)
        incidents = super().write_many(
            [
                replace(write, values=_without(write.values, {"people", "vehicles"}))
                for write in writes
            ]
        )
        updated = [
            incident.pk for write, incident in zip(writes, incidents, strict=True) if write.instance
        ]
        if updated:
            IncidentPerson.objects.filter(incident_id__in=updated).delete()
            IncidentVehicle.objects.filter(incident_id__in=updated).delete()
        pairs = list(zip(writes, incidents, strict=True))
        people = IncidentPerson.objects.bulk_create(
            [
                IncidentPerson(incident=incident, **row)
                for write, incident in pairs
                for row in write.values["people"]
            ]
        )
        vehicles = IncidentVehicle.objects.bulk_create(
            [
                IncidentVehicle(incident=incident, **row)
                for write, incident in pairs
                for row in write.values["vehicles"]
            ]
        )
        for incident in incidents:
            # What was just written is what a later record of the batch compares with.
            incident._prefetched_objects_cache = {
                **getattr(incident, "_prefetched_objects_cache", {}),
                "people": [row for row in people if row.incident_id == incident.pk],
                "vehicles": [row for row in vehicles if row.incident_id == incident.pk],
            }
        property_link(incidents)
        return incidents

    def persons_of(self, instance: Any) -> set[int]:
        return set()  # an incident changes no one's status or flags

    def audit_details(self, instance: Any) -> dict[str, Any]:
        return {"incident_number": instance.incident_number, "agency_ori": instance.agency_ori}


def _without(values: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    left_out = set(names)
    return {name: value for name, value in values.items() if name not in left_out}


def property_link(incidents: Sequence[Incident]) -> None:
    """Link the property reported under these incidents' agency and number (and not yet
    linked) to them; unlink property whose incident now carries another number. Where
    several source systems filed the same agency and number, the first stored wins."""
    if not incidents:
        return
    PropertyItem.objects.filter(incident__in=incidents).exclude(
        agency_ori=F("incident__agency_ori"), incident_number=F("incident__incident_number")
    ).update(incident=None)
    condition = Q()
    for incident in incidents:
        condition |= Q(agency_ori=incident.agency_ori, incident_number=incident.incident_number)
    first = (
        Incident.objects.filter(
            agency_ori=OuterRef("agency_ori"), incident_number=OuterRef("incident_number")
        )
        .order_by("pk")
        .values("pk")[:1]
    )
    PropertyItem.objects.filter(condition, incident__isnull=True).update(incident=Subquery(first))


# Property -------------------------------------------------------------------------------


class PropertyFeedSerializer(SourceRecordSerializer):
    """A firearm or article an agency reports: stolen, recovered, held as evidence."""

    person = PersonRefField(
        required=False,
        allow_null=True,
        help_text='The owner, when in the master name index: {"id": ...}, {"sid": ...} or '
        '{"fbi_number": ...}. Otherwise give owner_name.',
    )
    serial_number = OptionalTextField(
        max_length=40, help_text="As stamped; searches ignore spaces, dashes and case."
    )
    # Longer than stored, so that a wrong ORI is told what an ORI looks like.
    agency_ori = TextField(max_length=20, help_text="The reporting agency: CT0006400.")
    incident_number = OptionalTextField(
        max_length=40, help_text="The agency's incident report the item came with."
    )
    incident = LinkField(help_text="The incident report, once it is on file.")
    location = LocationFeedSerializer(
        required=False,
        allow_null=True,
        help_text="Where the item was stolen from, found or recovered.",
    )

    class Meta:
        model = PropertyItem
        fields = [
            *PROVENANCE,
            "category",
            "serial_number",
            "serial_key",
            "owner_applied_number",
            "make",
            "model",
            "caliber",
            "description",
            "status",
            "status_date",
            "agency_ori",
            "incident_number",
            "incident",
            "person",
            "owner_name",
            "location",
        ]
        read_only_fields = ["serial_key"]
        validators: list[Any] = []

    def validate_agency_ori(self, value: str) -> str:
        return _agency_ori(value)

    def validate_serial_number(self, value: str) -> str:
        if value and not serial_key(value):
            raise serializers.ValidationError("A serial number needs a letter or a digit.")
        return value

    def validate_status_date(self, value: date | None) -> date | None:
        return _date_not_in_future(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        firearm = attrs.get("category") == PropertyCategory.FIREARM
        if firearm and not attrs.get("serial_number") and not attrs.get("description"):
            raise serializers.ValidationError(
                {
                    "serial_number": [
                        "A firearm needs its serial number, or a description when it has "
                        "none (obliterated, home-made)."
                    ]
                }
            )
        return attrs


def _incidents_by_number(keys: set[IncidentKey]) -> dict[IncidentKey, int]:
    """The incident filed under each (agency ORI, incident number), in one query; the
    first stored where several source systems filed it."""
    if not keys:
        return {}
    condition = Q()
    for ori, number in keys:
        condition |= Q(agency_ori=ori, incident_number=number)
    rows = (
        Incident.objects.filter(condition)
        .order_by("-pk")
        .values_list("agency_ori", "incident_number", "pk")
    )
    return {(ori, number): pk for ori, number, pk in rows}


class PropertyKind(FeedKind):
    """A firearm or article, linked to its incident report when that is on file."""

    name = "property"
    model = PropertyItem
    serializer_class = PropertyFeedSerializer
    summary = (
        "Firearms and articles reported stolen, recovered, found or held as evidence, "
        "with their serial numbers; linked to the incident report when it is on file."
    )
    prefetch = ("location", "incident", "person")
    special_fields = frozenset({"person", "location"})

    def prepare(self, records: Sequence[dict[str, Any]], context: IntakeContext) -> None:
        context.extra["incidents"] = _incidents_by_number(
            {
                (data["agency_ori"], data["incident_number"])
                for data in records
                if data.get("incident_number")
            }
        )

    def values(self, data: dict[str, Any], context: IntakeContext) -> dict[str, Any]:
        values = super().values(data, context)
        values.setdefault("person_id", None)  # an owner no longer named is no longer linked
        values["serial_key"] = serial_key(values["serial_number"])
        number = values["incident_number"]
        incidents: dict[IncidentKey, int] = context.extra["incidents"]
        values["incident_id"] = incidents.get((values["agency_ori"], number)) if number else None
        values["location"] = data.get("location")
        return values

    def is_same(self, instance: Any, values: dict[str, Any]) -> bool:
        address: NormalizedAddress | None = values["location"]
        return super().is_same(instance, _without(values, {"location"})) and _location_key(
            instance
        ) == (address.key if address else None)

    def write_many(self, writes: list[Write]) -> list[Any]:
        return super().write_many(_with_locations(writes))

    def persons_of(self, instance: Any) -> set[int]:
        return set()  # property changes no one's status or flags

    def audit_details(self, instance: Any) -> dict[str, Any]:
        return {"category": instance.category, "serial_number": instance.serial_number}


INCIDENT_FEED_KINDS: tuple[FeedKind, ...] = (IncidentKind(), PropertyKind())
