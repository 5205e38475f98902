"""The JSON Schema of each exchange type, and validation that answers field by field.

Element names are the contract's (CONTRACT §3); each property carries the NIEM justice
element it corresponds to under ``x-niem``, so a vendor mapping an existing NIEM
exchange knows where each element goes. Every property is also described in words; the
schemas are published in the OpenAPI document and at ``/api/v1/exchanges/schemas/``.

Validation runs the schema of the exchange's type (Draft 2020-12, formats checked) and
then the checks a schema cannot say (dates in the future, dates out of order). Errors are
keyed by the dotted path of the element (``subject.dob``, ``charges.0.statute``) with
messages written for the person fixing the sending system.

Each schema is compiled twice. ``jsonschema_rs`` (compiled Rust, about fifty times faster
than ``jsonschema`` on a notice) answers whether a payload is valid, which is all a valid
payload needs; only a payload it refuses is walked by ``jsonschema``, whose errors carry
what the field-by-field messages are made of. Both check the formats with the same
functions, and tests hold the two to the same verdict on valid payloads and on a few
thousand broken ones.
"""

import copy
from datetime import date, timedelta
from typing import Any

import jsonschema_rs
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from ciss.models import ExchangeType

MAX_CHARGES = 100
MAX_NARRATIVE = 20_000
# An occurrence further ahead than this is a clock or time-zone error in the sender.
FUTURE_TOLERANCE = timedelta(hours=24)
EARLIEST_DOB = date(1900, 1, 1)

FORMATS = FormatChecker(formats=["date"])


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("not a date and time")
    if parsed.tzinfo is None:
        raise ValueError("no UTC offset")
    return True


def _text(niem: str, description: str, max_length: int = 100, **more: Any) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": max_length,
        "description": description,
        "x-niem": niem,
        **more,
    }


def _date(niem: str, description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "description": description, "x-niem": niem}


ORI = _text(
    "j:OrganizationORIIdentification",
    "The sending agency's ORI: two-letter state code and seven letters or digits.",
    9,
    pattern="^[A-Z]{2}[A-Z0-9]{7}$",
    **{"x-error": "Must be an ORI: the two-letter state code and seven letters or digits."},
)

ADDRESS = {
    "type": "object",
    "description": "A street address.",
    "x-niem": "nc:Address",
    "additionalProperties": False,
    "properties": {
        "line1": _text("nc:AddressDeliveryPointText", "Number and street.", 120),
        "line2": _text("nc:AddressSecondaryUnitText", "Apartment, unit or floor.", 120),
        "city": _text("nc:LocationCityName", "City or town.", 80),
        "state": _text("nc:LocationStateUSPostalServiceCode", "Two-letter state code.", 2),
        "postal_code": _text("nc:LocationPostalCode", "ZIP code.", 10),
    },
}

SUBJECT = {
    "type": "object",
    "description": "The person arrested, summoned or ticketed.",
    "x-niem": "j:Subject/nc:RoleOfPerson",
    "additionalProperties": False,
    "required": ["last_name"],
    "properties": {
        "first_name": _text("nc:PersonGivenName", "Given name.", 60),
        "middle_name": _text("nc:PersonMiddleName", "Middle name or initial.", 60),
        "last_name": _text("nc:PersonSurName", "Surname.", 80, minLength=1),
        "suffix": _text("nc:PersonNameSuffixText", "Jr, Sr, III...", 10),
        "dob": _date("nc:PersonBirthDate", "Date of birth, YYYY-MM-DD."),
        "sex": {
            "type": "string",
            "enum": ["M", "F", "U", ""],
            "description": "M, F or U (unknown).",
            "x-niem": "j:PersonSexCode",
        },
        "race": _text("j:PersonRaceCode", "NCIC race code (W, B, I, A, U).", 2),
        "sid": _text("j:PersonStateFingerprintIdentification", "State identification number.", 20),
        "fbi_number": _text("j:PersonFBIIdentification", "FBI number.", 20),
        "dl_number": _text("nc:DriverLicenseIdentification", "Driver's licence number.", 30),
        "dl_state": _text(
            "j:DrivingJurisdictionAuthorityNCICLSTACode", "Licence state (two letters).", 2
        ),
        "address": ADDRESS,
    },
}

CHARGE = {
    "type": "object",
    "description": "One charge.",
    "x-niem": "j:Charge",
    "additionalProperties": False,
    "required": ["statute"],
    "properties": {
        "statute": _text(
            "j:StatuteCodeSectionIdentification", "Statute, e.g. 53a-125b.", 40, minLength=1
        ),
        "description": _text("j:ChargeDescriptionText", "The offence in words.", 200),
        "severity": {
            "type": "string",
            "enum": ["felony", "misdemeanor", "infraction", "violation"],
            "description": "felony, misdemeanor, infraction or violation.",
            "x-niem": "j:ChargeSeverityLevelCode",
        },
        "class": {
            "type": "string",
            "enum": ["A", "B", "C", "D", "U", ""],
            "description": "Class of a felony or misdemeanor: A to D, or U (unclassified).",
            "x-niem": "j:ChargeSeverityLevelText",
        },
        "counts": {
            "type": "integer",
            "minimum": 1,
            "maximum": 999,
            "description": "Number of counts (default 1).",
            "x-niem": "j:ChargeCountQuantity",
        },
        "fine_amount": {
            "type": "number",
            "minimum": 0,
            "maximum": 100000,
            "description": "Fine or fee due, in dollars (infractions).",
            "x-niem": "j:ChargeFineAmount",
        },
    },
}

VEHICLE = {
    "type": "object",
    "description": "The vehicle involved.",
    "x-niem": "nc:Vehicle",
    "additionalProperties": False,
    "properties": {
        "plate": _text("nc:ConveyanceRegistrationPlateIdentification", "Plate.", 10),
        "state": _text("j:ConveyanceRegistrationPlateJurisdiction", "Plate state.", 2),
        "vin": _text("nc:VehicleIdentification", "Vehicle identification number.", 17),
        "year": {
            "type": "integer",
            "minimum": 1900,
            "maximum": 2100,
            "x-niem": "nc:ItemModelYearDate",
        },
        "make": _text("nc:VehicleMakeCode", "Make.", 40),
        "model": _text("nc:VehicleModelCode", "Model.", 40),
        "color": _text("nc:VehicleColorPrimaryCode", "Colour.", 30),
    },
}

COURT = {
    "type": "object",
    "description": "The court location.",
    "x-niem": "j:CourtLocation",
    "additionalProperties": False,
    "required": ["code"],
    "properties": {
        "code": _text("j:CourtLocationCode", "Court location code, e.g. GA14.", 20, minLength=1),
    },
}

OFFICER = {
    "type": "object",
    "description": "The arresting or issuing officer.",
    "x-niem": "j:ArrestOfficial",
    "additionalProperties": False,
    "properties": {
        "name": _text("nc:PersonFullName", "Officer's name.", 120),
        "badge": _text("j:EnforcementOfficialBadgeIdentification", "Badge number.", 20),
    },
}

COMMON = {
    "type": {
        "type": "string",
        "enum": list(ExchangeType.values),
        "description": "The exchange type.",
        "x-niem": "nc:ActivityCategoryText",
    },
    "agency_ori": ORI,
    "incident_number": _text(
        "nc:ActivityIdentification", "The agency's incident (report) number.", 40, minLength=1
    ),
    "occurred_at": {
        "type": "string",
        "format": "date-time",
        "description": "When the arrest, summons or stop took place, with its UTC offset.",
        "x-niem": "nc:ActivityDateTime",
    },
    "subject": SUBJECT,
    "charges": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_CHARGES,
        "items": CHARGE,
        "description": "The charges, at least one.",
        "x-niem": "j:Charge",
    },
    "court": COURT,
    "arraignment_date": _date(
        "j:CourtAppearanceDate", "Date of arraignment (or of appearance, for a summons)."
    ),
    "narrative": _text("nc:ActivityDescriptionText", "The officer's narrative.", MAX_NARRATIVE),
    "vehicle": VEHICLE,
    "location": {**ADDRESS, "description": "Where it took place.", "x-niem": "nc:Location"},
    "officer": OFFICER,
}

SCHEDULE = {
    "docket_number": _text("j:CaseDocketID", "The court's docket number.", 40, minLength=1),
    "arresting_agency_ori": {**ORI, "description": "The arresting agency, when not the sender."},
    "court_date": _date("j:CourtEventScheduleDate", "Date of the scheduled court event."),
    "hearing": _text(
        "j:CourtEventTypeText", "What is scheduled: arraignment, pretrial, trial, sentencing...", 60
    ),
}

REQUIRED = {
    ExchangeType.EARLY_ARREST_NOTICE: [
        "type",
        "agency_ori",
        "incident_number",
        "occurred_at",
        "subject",
        "charges",
        "court",
    ],
    ExchangeType.ARREST_PACKET: [
        "type",
        "agency_ori",
        "incident_number",
        "occurred_at",
        "subject",
        "charges",
        "court",
    ],
    ExchangeType.MISDEMEANOR_SUMMONS: [
        "type",
        "agency_ori",
        "incident_number",
        "occurred_at",
        "subject",
        "charges",
        "court",
        "arraignment_date",
    ],
    ExchangeType.INFRACTION: [
        "type",
        "agency_ori",
        "incident_number",
        "occurred_at",
        "subject",
        "charges",
    ],
    ExchangeType.COURT_SCHEDULE_NOTIFICATION: ["type", "agency_ori", "court", "court_date"],
}

SUMMARIES = {
    ExchangeType.EARLY_ARREST_NOTICE: "The first word of an arrest, sent as the person is booked.",
    ExchangeType.ARREST_PACKET: (
        "The full arrest: charges, narrative and, as attachments, the arrest forms."
    ),
    ExchangeType.MISDEMEANOR_SUMMONS: "A misdemeanor summons with the date to appear in court.",
    ExchangeType.INFRACTION: "An infraction ticket, for the Central Infractions Bureau.",
    ExchangeType.COURT_SCHEDULE_NOTIFICATION: (
        "A court event scheduled on a case (docket number, or the arrest's incident number)."
    ),
}


def schema_for(exchange_type: str) -> dict[str, Any]:
    """The JSON Schema of one exchange type."""
    properties: dict[str, Any] = copy.deepcopy(COMMON)
    properties["type"] = {**properties["type"], "const": exchange_type}
    if exchange_type == ExchangeType.COURT_SCHEDULE_NOTIFICATION:
        properties.update(copy.deepcopy(SCHEDULE))
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": ExchangeType(exchange_type).label,
        "description": SUMMARIES[ExchangeType(exchange_type)],
        "type": "object",
        "additionalProperties": False,
        "required": REQUIRED[ExchangeType(exchange_type)],
        "properties": properties,
    }
    if exchange_type == ExchangeType.COURT_SCHEDULE_NOTIFICATION:
        schema["anyOf"] = [{"required": ["docket_number"]}, {"required": ["incident_number"]}]
    return schema


VALIDATORS = {
    kind: Draft202012Validator(schema_for(kind), format_checker=FORMATS)
    for kind in ExchangeType.values
}
# The formats as FORMATS checks them, so that both validators agree on them.
_FAST_FORMATS = {
    name: (lambda value, name=name: FORMATS.conforms(value, name)) for name in ("date", "date-time")
}
FAST_VALIDATORS = {
    kind: jsonschema_rs.Draft202012Validator(
        schema_for(kind), formats=_FAST_FORMATS, validate_formats=True
    )
    for kind in ExchangeType.values
}


def validate_exchange(payload: Any) -> dict[str, list[str]]:
    """Field errors of ``payload`` as an exchange; empty when it is valid."""
    if not isinstance(payload, dict):
        return {"non_field_errors": ["Send the exchange as one JSON object."]}
    kind = payload.get("type")
    if kind not in VALIDATORS:
        listed = ", ".join(ExchangeType.values)
        if kind in (None, ""):
            return {"type": [f"This field is required: one of {listed}."]}
        return {"type": [f"Unknown exchange type {kind!r}: use one of {listed}."]}
    errors: dict[str, list[str]] = {}
    if not FAST_VALIDATORS[kind].is_valid(payload):
        for error in sorted(VALIDATORS[kind].iter_errors(payload), key=lambda e: list(e.path)):
            for path, message in _explain(error):
                errors.setdefault(path or "non_field_errors", []).append(message)
    if not errors:
        for path, message in _semantic_errors(payload):
            errors.setdefault(path, []).append(message)
    return errors


def _path(parts: Any) -> str:
    return ".".join(str(part) for part in parts)


def _explain(error: SchemaError) -> list[tuple[str, str]]:
    where = _path(error.absolute_path)
    value: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    match error.validator:
        case "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            return [(_path([*error.absolute_path, missing]), "This field is required.")]
        case "anyOf":
            return [("docket_number", "Give the docket number or the incident number.")]
        case "additionalProperties":
            allowed = set(schema.get("properties", {}))
            extra = (
                sorted(set(error.instance) - allowed) if isinstance(error.instance, dict) else []
            )
            return [(_path([*error.absolute_path, name]), "Unknown field.") for name in extra]
        case "type":
            return [(where, f"Must be {_a(error.validator_value)}.")]
        case "enum":
            options = ", ".join(repr(o) for o in value if o != "")
            return [(where, f"Must be one of {options}.")]
        case "const":
            return [(where, f"Must be {error.validator_value!r}.")]
        case "format":
            return [(where, _format_message(str(value)))]
        case "minLength":
            return [(where, "May not be empty.")]
        case "maxLength":
            return [(where, f"At most {error.validator_value} characters.")]
        case "pattern":
            return [(where, schema.get("x-error", "Not in the expected form."))]
        case "minItems":
            return [(where, f"Give at least {error.validator_value}.")]
        case "maxItems":
            return [(where, f"At most {error.validator_value} items.")]
        case "minimum":
            return [(where, f"Must be at least {error.validator_value}.")]
        case "maximum":
            return [(where, f"Must be at most {error.validator_value}.")]
    return [(where, error.message)]


def _a(kind: Any) -> str:
    words = {
        "string": "a string",
        "object": "a JSON object",
        "array": "a list",
        "integer": "a whole number",
        "number": "a number",
    }
    return words.get(str(kind), f"of type {kind}")


def _format_message(kind: str) -> str:
    if kind == "date":
        return "Must be a real date as YYYY-MM-DD."
    return "Must be a date and time with its UTC offset, e.g. 2026-11-20T14:03:00-05:00."


def _semantic_errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    errors = []
    now = timezone.now()
    occurred = parse_datetime(payload["occurred_at"]) if payload.get("occurred_at") else None
    if occurred is not None and occurred > now + FUTURE_TOLERANCE:
        errors.append(("occurred_at", "Is in the future: check the sending system's clock."))
    subject = payload.get("subject") or {}
    if subject.get("dob"):
        dob = date.fromisoformat(subject["dob"])
        if dob > timezone.localdate():
            errors.append(("subject.dob", "Is in the future."))
        elif dob < EARLIEST_DOB:
            errors.append(("subject.dob", f"Is before {EARLIEST_DOB.year}: check the year."))
        elif occurred is not None and dob > occurred.date():
            errors.append(("subject.dob", "Is after the date the exchange took place."))
    # occurred_at keeps the sender's offset, so its date is the local day.
    arraigned = payload.get("arraignment_date")
    if occurred is not None and arraigned and date.fromisoformat(arraigned) < occurred.date():
        errors.append(("arraignment_date", "Is before the date the exchange took place."))
    for index, charge in enumerate(payload.get("charges") or []):
        if charge.get("class") and charge.get("severity") not in ("felony", "misdemeanor"):
            errors.append(
                (f"charges.{index}.class", "A class is given only for a felony or misdemeanor.")
            )
    return errors
