"""Person search for agencies' systems (CONTRACT §3, "Search"): the request parameters,
the search itself with its audit row, and the shape of the answer.

The matching is ``obts.services.matching.search_persons`` (OBTS owns the master name
index and the matcher); this module turns ``GET /api/v1/search/persons`` parameters into
that call and records every search: who searched, why, for what, and which persons were
shown.

Parameters: ``name`` (free text, "first last", "last, first", with or without middle
names) or ``first_name`` / ``last_name``; ``dob`` (YYYY-MM-DD), ``sex``, ``sid``,
``fbi_number``, ``dl_number``, ``limit`` (1-100, default 10) and ``purpose``. Empty
parameters are ignored. Refused with a 400 naming the field: a bad date, sex, limit or
purpose, a name without two letters to search on, ``name`` together with
``first_name``/``last_name``; and, naming no field, a search with nothing to search on
(a date of birth or a sex alone is not a search).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from rest_framework import serializers

from obts.access import API_VISIBILITY, Purpose, visibility_for
from obts.matching import parse_name, query_keys
from obts.models import Flag, PersonStatus, Sex
from obts.services.intake import normalize_identifier
from obts.services.matching import MAX_SEARCH_RESULTS, NameQuery, PersonHit, search_persons
from portal import audit
from portal.models import ApiClient, User

PERSONS_SEARCHED = "ciss.search.persons"
audit.register_actions({PERSONS_SEARCHED: "CISS: persons searched"})
DEFAULT_LIMIT = 10
MAX_LIMIT = MAX_SEARCH_RESULTS
NAME_MAX_LENGTH = 100
IDENTIFIER_MAX_LENGTH = 40
NAME_FIELDS = ("name", "first_name", "last_name")
IDENTIFIER_FIELDS = ("sid", "fbi_number", "dl_number")
# Every parameter the search reads, in the order the audit row lists them.
PARAMETERS = (*NAME_FIELDS, "dob", "sex", *IDENTIFIER_FIELDS, "limit", "purpose")
NOTHING_TO_SEARCH = (
    "Nothing to search on: give name, first_name or last_name, or an identifier "
    "(sid, fbi_number, dl_number). A date of birth or sex alone is not a search."
)
_SEXES = {"M": Sex.MALE, "MALE": Sex.MALE, "F": Sex.FEMALE, "FEMALE": Sex.FEMALE}
_SEXES |= {"U": Sex.UNKNOWN, "UNKNOWN": Sex.UNKNOWN}


def given_parameters(params: Mapping[str, str]) -> dict[str, str]:
    """The search parameters that carry something, stripped; empty ones are ignored."""
    given = {name: str(params.get(name) or "").strip() for name in PARAMETERS}
    return {name: value for name, value in given.items() if value}


def _name_field(label: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, max_length=NAME_MAX_LENGTH, help_text=label, trim_whitespace=True
    )


def _identifier_field(label: str) -> serializers.CharField:
    return serializers.CharField(
        required=False,
        max_length=IDENTIFIER_MAX_LENGTH,
        help_text=f"{label}; compared exactly, ignoring case, spaces and punctuation.",
    )


def _usable(first: str, last: str) -> bool:
    try:
        query_keys(first, last)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class PersonSearch:
    """A validated person search: the name readings (each with the date of birth), the
    rest of the criteria, and the parameters as given (for the audit row)."""

    names: list[NameQuery]
    sex: str
    sid: str
    fbi_number: str
    dl_number: str
    limit: int
    purpose: str
    given: dict[str, str]


class PersonSearchParameters(serializers.Serializer[Any]):
    """The query parameters of ``GET /api/v1/search/persons`` (empty ones removed first,
    see :func:`given_parameters`)."""

    name = _name_field(
        'Free-text name: "first last" or "last, first", with or without middle names. '
        "Not together with first_name or last_name."
    )
    first_name = _name_field("Given name.")
    last_name = _name_field("Surname.")
    dob = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="Date of birth, YYYY-MM-DD."
    )
    sex = serializers.CharField(required=False, max_length=7, help_text="M, F or U.")
    sid = _identifier_field("State identification number")
    fbi_number = _identifier_field("FBI number")
    dl_number = _identifier_field("Driver's licence number (any state)")
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"How many persons to answer at most, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    )
    purpose = serializers.ChoiceField(
        required=False,
        choices=Purpose.choices,
        help_text="Why the search is made; recorded in the audit log.",
    )

    def validate_sex(self, value: str) -> str:
        sex = _SEXES.get(value.upper())
        if sex is None:
            raise serializers.ValidationError("Use M, F or U.")
        return str(sex)

    def _validate_identifier(self, value: str) -> str:
        normalized = normalize_identifier(value)
        if not normalized:
            raise serializers.ValidationError("Give letters or digits.")
        return normalized

    def validate_sid(self, value: str) -> str:
        return self._validate_identifier(value)

    def validate_fbi_number(self, value: str) -> str:
        return self._validate_identifier(value)

    def validate_dl_number(self, value: str) -> str:
        return self._validate_identifier(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.get("name", "")
        first, last = attrs.get("first_name", ""), attrs.get("last_name", "")
        if name and (first or last):
            raise serializers.ValidationError(
                {"name": ["Give either name or first_name and last_name, not both."]}
            )
        if name and not any(_usable(r.first, r.last) for r in parse_name(name)):
            raise serializers.ValidationError(
                {"name": ["The name has no part of two letters or more to search on."]}
            )
        if (first or last) and not _usable(first, last):
            fields = [field for field in ("first_name", "last_name") if attrs.get(field)]
            message = "The name has no part of two letters or more to search on."
            raise serializers.ValidationError({field: [message] for field in fields})
        if not (name or first or last or any(attrs.get(f) for f in IDENTIFIER_FIELDS)):
            raise serializers.ValidationError(NOTHING_TO_SEARCH)
        return attrs

    def search(self) -> PersonSearch:
        """The validated search (call after ``is_valid``)."""
        data = self.validated_data
        dob = data.get("dob")
        if data.get("name"):
            names = [
                NameQuery(r.first, r.middle, r.last, r.suffix, dob)
                for r in parse_name(data["name"])
            ]
        elif data.get("first_name") or data.get("last_name"):
            names = [NameQuery(data.get("first_name", ""), "", data.get("last_name", ""), "", dob)]
        else:
            names = []
        sex = data.get("sex", "")
        return PersonSearch(
            names=names,
            sex="" if sex == Sex.UNKNOWN else sex,
            sid=data.get("sid", ""),
            fbi_number=data.get("fbi_number", ""),
            dl_number=data.get("dl_number", ""),
            limit=data["limit"],
            purpose=data.get("purpose", ""),
            given=dict(self.initial_data),
        )


@transaction.atomic
def persons_search(
    *,
    search: PersonSearch,
    api_client: ApiClient | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[PersonHit]:
    """Run ``search`` for an agency's system (``api_client``) or a portal user (``actor``),
    exactly one of them, and audit it: the parameters given, the purpose ("not stated"
    when none), how many persons were shown and their ids. A client sees what the API may
    serve: flags and status never come from juvenile or sealed cases. A user sees what
    their claims let through (``obts.access.visibility_for``, which refuses a user
    without a record role). The audit row is written last, in the same transaction."""
    if (api_client is None) == (actor is None):
        raise ValueError("persons_search needs either api_client or actor, not both.")
    visibility = API_VISIBILITY if actor is None else visibility_for(actor)
    hits = search_persons(
        names=search.names,
        sex=search.sex,
        sid=search.sid,
        fbi_number=search.fbi_number,
        dl_number=search.dl_number,
        limit=search.limit,
        visibility=visibility,
    )
    query = {key: value for key, value in search.given.items() if key != "purpose"}
    audit.record(
        PERSONS_SEARCHED,
        actor=actor,
        request=request,
        api_client=api_client,
        object_type="obts.person",
        details={
            "query": query,
            "purpose": search.purpose or "not stated",
            "count": len(hits),
            "persons": [str(hit.public_id) for hit in hits],
        },
    )
    return hits


class PersonResultSerializer(serializers.Serializer[PersonHit]):
    """One person found: primary name and identifying data, flags (wanted first), status,
    the score in [0, 1] with its reasons, and the name row that matched."""

    id = serializers.UUIDField(source="public_id")
    score = serializers.FloatField(min_value=0, max_value=1)
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    suffix = serializers.CharField()
    dob = serializers.DateField(allow_null=True)
    sex = serializers.CharField()
    matched_name = serializers.CharField(
        help_text="The name that matched: the primary name or an alias."
    )
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=Flag.choices),
        help_text="Officer-safety and status flags, in the record's order (wanted first).",
    )
    # A CharField, not a ChoiceField: the same choice set under "status" in two components
    # makes drf-spectacular name the enum by a hash and warn (settings' ENUM_NAME_OVERRIDES
    # would settle it for both).
    status = serializers.CharField(
        help_text="Current status, as on the record: " + ", ".join(PersonStatus.values) + "."
    )
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why the person matched, in plain words."
    )


class PersonSearchResultsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(help_text="How many persons are in results.")
    results = PersonResultSerializer(many=True, help_text="Best first.")


def results_payload(hits: list[PersonHit]) -> dict[str, Any]:
    """The answer: ``{"count": N, "results": [...]}``, best first."""
    return dict(PersonSearchResultsSerializer({"count": len(hits), "results": hits}).data)
