"""CISS pages: the search page for persons, vehicles, locations, property and events.

One page, ``/ciss/search/``, with a tab for each kind (``?kind=vehicle``, ``location``,
``property``, ``event``; persons without one). The form works as a plain GET form; with
JavaScript on, htmx asks ``/ciss/search/results/`` for the results alone while the
officer types. Both answer through :func:`_outcome`, so
the page and the partial cannot disagree.

A search runs, and is audited, only when something was typed, the input is valid and a
purpose is chosen. The purpose is remembered in the session, so an officer picks it once
per session; every search still records it.
"""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ciss import event_search, location_search, misuse, property_search
from ciss.links import association_url
from ciss.models import PropertyCategory, PropertyStatus, RegistrationStatus
from ciss.place_search import PersonSummary, PlaceQueryError
from ciss.search import (
    DEFAULT_LIMIT,
    IDENTIFIER_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTHING_TO_SEARCH,
    PersonSearchParameters,
    persons_search,
)
from ciss.vehicle_search import (
    VehicleQueryError,
    VehicleResult,
    parse_query,
    vehicles_search,
)
from obts.access import RECORD_ROLES, Purpose, visibility_for
from obts.models import Flag, PersonStatus, Sex
from obts.services.matching import PersonHit
from obts.views import FLAG_STYLES
from portal import audit
from portal.access import acting_user, require_roles
from portal.roles import Role

PURPOSE_SESSION_KEY = "ciss.search.purpose"
PERSON, VEHICLE = "person", "vehicle"
LOCATION, PROPERTY, EVENT = "location", "property", "event"
KINDS = (PERSON, VEHICLE, LOCATION, PROPERTY, EVENT)
KIND_LABELS = {
    PERSON: "Person",
    VEHICLE: "Vehicle",
    LOCATION: "Location",
    PROPERTY: "Property",
    EVENT: "Event",
}
PAGE_LIMIT = DEFAULT_LIMIT
PERSON_FIELDS = ("name", "dob", "sex", "sid", "fbi_number", "dl_number")
MORE_FIELDS = ("sid", "fbi_number", "dl_number")
VEHICLE_FIELDS = ("plate", "state", "vin")
LOCATION_FIELDS = ("address",)
PROPERTY_FIELDS = ("serial", "category", "make", "model", "status")
EVENT_FIELDS = ("number", "date_from", "date_to", "agency", "kind_of_event")
# A search starts once one of these is typed: a category or status chosen alone only
# narrows what is still to be typed, so it does not warn "nothing to search on".
TYPED_FIELDS = {
    PERSON: PERSON_FIELDS,
    VEHICLE: VEHICLE_FIELDS,
    LOCATION: LOCATION_FIELDS,
    PROPERTY: ("serial", "make", "model"),
    EVENT: EVENT_FIELDS,
}
FIELDS = {
    PERSON: PERSON_FIELDS,
    VEHICLE: VEHICLE_FIELDS,
    LOCATION: LOCATION_FIELDS,
    PROPERTY: PROPERTY_FIELDS,
    EVENT: EVENT_FIELDS,
}
PURPOSE_NEEDED = "Choose the purpose of this search: results are shown only with a purpose."
NOTHING_TO_SEARCH_ON = (
    "Add a name, or an SID, FBI number or licence number under More fields: a date of "
    "birth or sex alone is not a search."
)
# What each tab says when there is nothing to search on, in the words of its fields.
NOTHING_TO_SEARCH_ON_TAB = {
    LOCATION: "Add a street name of three characters or more: a city or state alone is "
    "not a search.",
    PROPERTY: "Add a serial number, or a make or model: a category or status alone is not "
    "a search.",
    EVENT: "Add an incident or docket number, a date, an agency ORI or a kind of incident.",
}
CASES_NEED_CLAIM = (
    "Court cases are not listed: they are criminal history, which needs the "
    "“Criminal history data” claim. Incident reports are."
)

# Search as you type: each input asks for the results partial, sending the whole form,
# 300 ms after the last keystroke; a newer request replaces one still under way.
_LIVE = {
    "hx-get": reverse_lazy("ciss:search_results"),
    "hx-include": "closest form",
    "hx-target": "#search-results",
    "hx-sync": "closest form:replace",
}
_TYPED = {**_LIVE, "hx-trigger": "input changed delay:300ms, search"}
_CHOSEN = {**_LIVE, "hx-trigger": "change"}


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(
        attrs={"type": "search", "class": "usa-input", "autocomplete": "off", **_TYPED, **attrs}
    )


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "usa-select", **_CHOSEN})


class SearchForm(forms.Form):
    """The fields of one tab, for display and for the purpose; the search parameters
    themselves are validated by the search services."""

    use_required_attribute = False  # the server says what is missing, JavaScript or not

    purpose = forms.ChoiceField(
        label="Purpose of this search",
        choices=[("", "- Select -"), *Purpose.choices],
        help_text="Asked once per session; recorded in the audit log with every search.",
        error_messages={"required": PURPOSE_NEEDED},
        widget=_select(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, bound in self.fields.items():
            described = [f"id_{name}-hint"] if bound.help_text else []
            bound.widget.attrs["aria-describedby"] = " ".join([*described, f"id_{name}-errors"])


class PersonSearchForm(SearchForm):
    name = forms.CharField(
        label="Name",
        required=False,
        help_text='First and last name, or "last, first". Misspellings and nicknames match too.',
        widget=_text(maxlength=NAME_MAX_LENGTH, autofocus=True),
    )
    dob = forms.CharField(
        label="Date of birth",
        required=False,
        widget=_text(type="date", maxlength=10),
    )
    sex = forms.ChoiceField(
        label="Sex",
        required=False,
        choices=[("", "Any"), (Sex.FEMALE, Sex.FEMALE.label), (Sex.MALE, Sex.MALE.label)],
        widget=_select(),
    )
    sid = forms.CharField(
        label="SID (state identification number)",
        required=False,
        widget=_text(maxlength=IDENTIFIER_MAX_LENGTH),
    )
    fbi_number = forms.CharField(
        label="FBI number", required=False, widget=_text(maxlength=IDENTIFIER_MAX_LENGTH)
    )
    dl_number = forms.CharField(
        label="Driver's licence number",
        required=False,
        help_text="Any state.",
        widget=_text(maxlength=IDENTIFIER_MAX_LENGTH),
    )


class VehicleSearchForm(SearchForm):
    plate = forms.CharField(
        label="Plate",
        required=False,
        help_text="Whole, or partial with * for any run and ? for one character (ABC*, "
        "*1234). O and 0, I and 1 are read alike.",
        widget=_text(maxlength=20, autofocus=True, autocapitalize="characters"),
    )
    state = forms.CharField(
        label="State",
        required=False,
        help_text="Two letters, such as CT.",
        widget=_text(maxlength=2, autocapitalize="characters"),
    )
    vin = forms.CharField(
        label="VIN",
        required=False,
        help_text="All 17 characters.",
        widget=_text(maxlength=17, autocapitalize="characters"),
    )


class LocationSearchForm(SearchForm):
    address = forms.CharField(
        label="Address",
        required=False,
        help_text="Street line, then city and state after commas: 12 N Main St Apt 3, "
        "Hartford, CT. Spelled out or abbreviated alike; a street alone (Main St, Hartford) "
        "lists the addresses on it.",
        widget=_text(maxlength=location_search.ADDRESS_MAX_LENGTH, autofocus=True),
    )


class PropertySearchForm(SearchForm):
    serial = forms.CharField(
        label="Serial number",
        required=False,
        help_text="Whole, or partial with * for any run and ? for one character (AB12*). "
        "Spaces and dashes are ignored; O and 0, I and 1 are read alike.",
        widget=_text(
            maxlength=property_search.SERIAL_MAX_LENGTH,
            autofocus=True,
            autocapitalize="characters",
        ),
    )
    category = forms.ChoiceField(
        label="Category",
        required=False,
        choices=[("", "Any"), *PropertyCategory.choices],
        widget=_select(),
    )
    make = forms.CharField(
        label="Make",
        required=False,
        help_text="Part of it is enough: Smith finds Smith & Wesson.",
        widget=_text(maxlength=property_search.MAKE_MAX_LENGTH),
    )
    model = forms.CharField(
        label="Model", required=False, widget=_text(maxlength=property_search.MAKE_MAX_LENGTH)
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any"), *PropertyStatus.choices],
        widget=_select(),
    )


class EventSearchForm(SearchForm):
    number = forms.CharField(
        label="Incident or docket number",
        required=False,
        help_text="Finds the incident report and the court case that came of it.",
        widget=_text(
            maxlength=event_search.NUMBER_MAX_LENGTH, autofocus=True, autocapitalize="characters"
        ),
    )
    date_from = forms.CharField(
        label="From", required=False, widget=_text(type="date", maxlength=10)
    )
    date_to = forms.CharField(label="To", required=False, widget=_text(type="date", maxlength=10))
    agency = forms.CharField(
        label="Agency ORI",
        required=False,
        help_text="Such as CT0006400.",
        widget=_text(maxlength=9, autocapitalize="characters"),
    )
    kind_of_event = forms.CharField(
        label="Kind of incident",
        required=False,
        help_text="Part of it: burglary, assault. For court cases, a charge.",
        widget=_text(maxlength=event_search.KIND_MAX_LENGTH),
    )


FORMS: dict[str, type[SearchForm]] = {
    PERSON: PersonSearchForm,
    VEHICLE: VehicleSearchForm,
    LOCATION: LocationSearchForm,
    PROPERTY: PropertySearchForm,
    EVENT: EventSearchForm,
}


@dataclass(frozen=True)
class PersonCard:
    """A person found, as the results show it."""

    name: str
    alias: str
    dob: str
    sex: str
    status: str
    flags: list[dict[str, str]]
    reasons: list[str]
    url: str
    public_id: str = ""


@dataclass(frozen=True)
class VehicleCard:
    """A vehicle found, as the results show it."""

    result: VehicleResult
    status: str
    owner_flags: list[dict[str, str]]
    owner_url: str


@dataclass(frozen=True)
class PersonLink:
    """A person named on a card: the name, the record link and the flags as badges; no
    link for someone the report names who is not in the master name index."""

    name: str
    url: str
    flags: list[dict[str, str]]
    role: str = ""


@dataclass(frozen=True)
class LocationCard:
    result: location_search.LocationResult
    residents: list[PersonLink]
    linked_url: str


@dataclass(frozen=True)
class PropertyCard:
    result: property_search.PropertyResult
    owner: PersonLink | None
    incident_url: str
    linked_url: str


@dataclass(frozen=True)
class EventCard:
    result: event_search.EventResult
    people: list[PersonLink]
    location_url: str
    linked_url: str


@dataclass
class Outcome:
    """What the page shows under the form: ``state`` is one of ``empty``, ``invalid``,
    ``purpose`` (valid, but no purpose), ``none`` (nothing found) or ``found``."""

    kind: str
    form: SearchForm
    state: str = "empty"
    problems: list[str] = field(default_factory=list)
    cards: list[Any] = field(default_factory=list)
    notice: str = ""

    @property
    def too_many(self) -> bool:
        return len(self.cards) >= PAGE_LIMIT


def _flags(codes: list[str]) -> list[dict[str, str]]:
    """Badges in the record's order, wanted first, whatever order they came in."""
    known = sorted({code for code in codes if code in FLAG_STYLES}, key=Flag.values.index)
    return [{"code": code, "label": Flag(code).label, "style": FLAG_STYLES[code]} for code in known]


def _record_url(public_id: object, purpose: str) -> str:
    path = reverse("obts:person", kwargs={"public_id": public_id})
    return f"{path}?{urlencode({'purpose': purpose})}"


def _person_card(hit: PersonHit, purpose: str) -> PersonCard:
    parts = (hit.first_name, hit.middle_name, hit.last_name, hit.suffix)
    name = " ".join(part for part in parts if part)
    alias = hit.matched_name if hit.matched_name.casefold() != name.casefold() else ""
    return PersonCard(
        name=name,
        alias=alias,
        dob=hit.dob.isoformat() if hit.dob else "",
        sex=Sex(hit.sex).label if hit.sex in Sex.values else hit.sex,
        status=PersonStatus(hit.status).label if hit.status in PersonStatus.values else "",
        flags=_flags(hit.flags),
        # The alias is shown on its own line.
        reasons=[reason for reason in hit.reasons if not reason.startswith("matched alias")],
        url=_record_url(hit.public_id, purpose),
        public_id=str(hit.public_id),
    )


def _vehicle_card(result: VehicleResult, purpose: str) -> VehicleCard:
    owner = result.owner
    return VehicleCard(
        result=result,
        status=RegistrationStatus(result.registration_status).label,
        owner_flags=_flags(owner.flags) if owner else [],
        owner_url=_record_url(owner.id, purpose) if owner else "",
    )


def _person_link(person: PersonSummary, purpose: str, *, role: str = "") -> PersonLink:
    return PersonLink(
        name=person.name or "Name not recorded",
        url=_record_url(person.id, purpose),
        flags=_flags(person.flags),
        role=role,
    )


def _location_card(result: location_search.LocationResult, purpose: str) -> LocationCard:
    return LocationCard(
        result=result,
        residents=[_person_link(person, purpose) for person in result.residents],
        linked_url=association_url("location", result.key, purpose),
    )


def _property_card(result: property_search.PropertyResult, purpose: str) -> PropertyCard:
    incident = result.incident
    return PropertyCard(
        result=result,
        owner=_person_link(result.owner, purpose) if result.owner else None,
        incident_url=association_url("incident", incident.id, purpose) if incident else "",
        linked_url=association_url("property", str(result.item.public_id), purpose),
    )


def _event_card(result: event_search.EventResult, purpose: str) -> EventCard:
    people = [
        _person_link(p.person, purpose, role=p.role_label)
        if p.person is not None
        else PersonLink(name=p.name or "Name not recorded", url="", flags=[], role=p.role_label)
        for p in result.people
    ]
    # Flagged people first, so a wanted suspect is not below three witnesses.
    people.sort(key=lambda person: not person.flags)
    location_url = (
        association_url("location", result.location_key, purpose) if result.location_key else ""
    )
    return EventCard(
        result=result,
        people=people,
        location_url=location_url,
        linked_url=association_url(result.kind, result.id, purpose),
    )


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def _purpose(request: HttpRequest) -> QueryDict:
    """The request's parameters, with the session's purpose when none was sent; a purpose
    sent is remembered (an empty one forgets it)."""
    values = request.GET.copy()
    if "purpose" not in values:
        values["purpose"] = request.session.get(PURPOSE_SESSION_KEY, "")
    elif values["purpose"] in Purpose.values:
        request.session[PURPOSE_SESSION_KEY] = values["purpose"]
    else:
        request.session.pop(PURPOSE_SESSION_KEY, None)
    return values


def _outcome(request: HttpRequest) -> Outcome:
    values = _purpose(request)
    kind = values.get("kind", "")
    kind = kind if kind in KINDS else PERSON
    form_class = FORMS[kind]
    given = {name: values.get(name, "").strip() for name in FIELDS[kind]}
    given = {name: value for name, value in given.items() if value}
    if not any(name in given for name in TYPED_FIELDS[kind]):
        return Outcome(kind=kind, form=form_class(initial={"purpose": values["purpose"]}))
    form = form_class(values)
    form.is_valid()
    if kind == VEHICLE:
        return _vehicles(request, form, given)
    if kind in (LOCATION, PROPERTY, EVENT):
        return _places(request, kind, form, given)
    return _persons(request, form, given)


def _finish(outcome: Outcome) -> Outcome:
    """The state of a search that was not run: invalid, or valid but without a purpose."""
    form = outcome.form
    outcome.problems = [
        f"{form.fields[name].label}: {error}"
        for name in form.errors
        if name in form.fields and name != "purpose"
        for error in form.errors[name]
    ] + [str(error) for error in form.non_field_errors()]
    outcome.state = "invalid" if outcome.problems else "purpose"
    return outcome


def _persons(request: HttpRequest, form: SearchForm, given: dict[str, str]) -> Outcome:
    outcome = Outcome(kind=PERSON, form=form)
    purpose = form.cleaned_data.get("purpose", "")
    parameters = PersonSearchParameters(data={**given, "purpose": purpose} if purpose else given)
    if not parameters.is_valid():
        for name, detail in parameters.errors.items():
            for message in _messages(detail):
                if name in form.fields:
                    if name not in form.errors:  # the form's own message comes first
                        form.add_error(name, message)
                else:
                    form.add_error(
                        None, NOTHING_TO_SEARCH_ON if message == NOTHING_TO_SEARCH else message
                    )
    if form.errors:
        return _finish(outcome)
    hits = persons_search(search=parameters.search(), actor=acting_user(request), request=request)
    outcome.cards = [_person_card(hit, purpose) for hit in hits]
    outcome.state = "found" if hits else "none"
    return outcome


def _vehicles(request: HttpRequest, form: SearchForm, given: dict[str, str]) -> Outcome:
    outcome = Outcome(kind=VEHICLE, form=form)
    try:
        query = parse_query(
            plate=given.get("plate", ""),
            state=given.get("state", ""),
            vin=given.get("vin", ""),
            limit=PAGE_LIMIT,
        )
    except VehicleQueryError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        query = None
    if form.errors or query is None:
        return _finish(outcome)
    purpose = form.cleaned_data["purpose"]
    results = vehicles_search(query, purpose=purpose, actor=acting_user(request), request=request)
    outcome.cards = [_vehicle_card(result, purpose) for result in results]
    outcome.state = "found" if results else "none"
    return outcome


def _places(request: HttpRequest, kind: str, form: SearchForm, given: dict[str, str]) -> Outcome:
    """A location, property or event search: the service validates what was typed (its
    message goes beside the field it names), and runs only with a purpose."""
    outcome = Outcome(kind=kind, form=form)
    query: Any = None
    try:
        if kind == LOCATION:
            query = location_search.parse_query(address=given.get("address", ""), limit=PAGE_LIMIT)
        elif kind == PROPERTY:
            query = property_search.parse_query(
                serial=given.get("serial", ""),
                category=given.get("category", ""),
                make=given.get("make", ""),
                model=given.get("model", ""),
                status=given.get("status", ""),
                limit=PAGE_LIMIT,
            )
        else:
            query = event_search.parse_query(
                number=given.get("number", ""),
                date_from=given.get("date_from", ""),
                date_to=given.get("date_to", ""),
                agency=given.get("agency", ""),
                kind=given.get("kind_of_event", ""),
                limit=PAGE_LIMIT,
            )
    except PlaceQueryError as error:
        name = _PAGE_FIELDS.get(error.field or "", error.field)
        if name in form.fields:
            if name not in form.errors:  # the form's own message comes first
                form.add_error(name, error.message)
        else:
            form.add_error(None, NOTHING_TO_SEARCH_ON_TAB[kind] if name is None else error.message)
        query = None
    if form.errors or query is None:
        return _finish(outcome)
    purpose = form.cleaned_data["purpose"]
    actor = acting_user(request)
    cards: list[Any]
    if kind == LOCATION:
        locations = location_search.locations_search(
            query, purpose=purpose, actor=actor, request=request
        )
        cards = [_location_card(result, purpose) for result in locations]
    elif kind == PROPERTY:
        items = property_search.property_search(
            query, purpose=purpose, actor=actor, request=request
        )
        cards = [_property_card(result, purpose) for result in items]
    else:
        events = event_search.events_search(query, purpose=purpose, actor=actor, request=request)
        cards = [_event_card(result, purpose) for result in events]
        if not visibility_for(actor).criminal_history:
            outcome.notice = CASES_NEED_CLAIM
    outcome.cards = cards
    outcome.state = "found" if cards else "none"
    return outcome


# The page's names for the services' parameters, where they differ.
_PAGE_FIELDS = {"from": "date_from", "to": "date_to", "kind": "kind_of_event"}


def _context(outcome: Outcome, *, oob: bool) -> dict[str, Any]:
    form = outcome.form
    return {
        "kind": outcome.kind,
        "form": form,
        "outcome": outcome,
        "limit": PAGE_LIMIT,
        "results_template": f"ciss/partials/{outcome.kind}_results.html",
        "kinds": [(kind, KIND_LABELS[kind]) for kind in KINDS],
        "kind_label": KIND_LABELS[outcome.kind],
        "more_open": any(form[name].value() or form.errors.get(name) for name in MORE_FIELDS)
        if outcome.kind == PERSON
        else False,
        "oob": oob,
    }


@require_roles(*RECORD_ROLES)
@require_GET
@never_cache
def search_view(request: HttpRequest) -> HttpResponse:
    outcome = _outcome(request)
    status = 400 if outcome.state == "invalid" else 200
    return render(request, "ciss/search.html", _context(outcome, oob=False), status=status)


@require_roles(*RECORD_ROLES)
@require_GET
@never_cache
def search_results_view(request: HttpRequest) -> HttpResponse:
    """The results alone, for htmx; field messages go out of band beside their fields.
    Always 200: htmx swaps only successful answers."""
    outcome = _outcome(request)
    context = _context(outcome, oob=True)
    return render(request, context["results_template"], context)


# ---------------------------------------------------------------------------------------
# Misuse signals (auditors)

MISUSE_ROLES = (Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR)
MISUSE_LISTED = "ciss.misuse.listed"
audit.register_actions({MISUSE_LISTED: "CISS: misuse signals listed"})


class MisuseForm(forms.Form):
    days = forms.IntegerField(
        label="Days to look back",
        min_value=1,
        max_value=misuse.MAX_DAYS,
        initial=misuse.DEFAULT_DAYS,
        widget=forms.NumberInput(attrs={"class": "usa-input usa-input--small"}),
    )


@require_roles(*MISUSE_ROLES)
@require_GET
@never_cache
def misuse_view(request: HttpRequest) -> HttpResponse:
    """Unusual volume, repeated looks at one person, and looks at people sharing the
    user's surname, over the last days; listing them is audited."""
    form = MisuseForm(request.GET if "days" in request.GET else {"days": misuse.DEFAULT_DAYS})
    if not form.is_valid():
        return render(request, "ciss/misuse.html", {"form": form}, status=400)
    days = form.cleaned_data["days"]
    found = misuse.signals(days)
    audit.record(
        MISUSE_LISTED,
        request=request,
        details={
            "days": days,
            "volume": len(found.volume),
            "repeats": len(found.repeats),
            "surnames": len(found.surnames),
        },
    )
    context = {
        "form": form,
        "days": days,
        "signals": found,
        "thresholds": {
            "factor": misuse.VOLUME_FACTOR,
            "minimum": misuse.VOLUME_MINIMUM,
            "repeat": misuse.REPEAT_MINIMUM,
            "baseline_days": misuse.BASELINE_DAYS,
        },
    }
    return render(request, "ciss/misuse.html", context)
