"""CISS pages: the search page for persons and vehicles.

One page, ``/ciss/search/``, with a Person and a Vehicle tab (``?kind=vehicle``). The
form works as a plain GET form; with JavaScript on, htmx asks ``/ciss/search/results/``
for the results alone while the officer types. Both answer through :func:`_outcome`, so
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

from ciss import misuse
from ciss.models import RegistrationStatus
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
from obts.access import RECORD_ROLES, Purpose
from obts.models import Flag, PersonStatus, Sex
from obts.services.matching import PersonHit
from obts.views import FLAG_STYLES
from portal import audit
from portal.access import acting_user, require_roles
from portal.roles import Role

PURPOSE_SESSION_KEY = "ciss.search.purpose"
PERSON, VEHICLE = "person", "vehicle"
PAGE_LIMIT = DEFAULT_LIMIT
PERSON_FIELDS = ("name", "dob", "sex", "sid", "fbi_number", "dl_number")
MORE_FIELDS = ("sid", "fbi_number", "dl_number")
VEHICLE_FIELDS = ("plate", "state", "vin")
PURPOSE_NEEDED = "Choose the purpose of this search: results are shown only with a purpose."
NOTHING_TO_SEARCH_ON = (
    "Add a name, or an SID, FBI number or licence number under More fields: a date of "
    "birth or sex alone is not a search."
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


@dataclass
class Outcome:
    """What the page shows under the form: ``state`` is one of ``empty``, ``invalid``,
    ``purpose`` (valid, but no purpose), ``none`` (nothing found) or ``found``."""

    kind: str
    form: SearchForm
    state: str = "empty"
    problems: list[str] = field(default_factory=list)
    cards: list[Any] = field(default_factory=list)

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
    kind = VEHICLE if values.get("kind") == VEHICLE else PERSON
    form_class = VehicleSearchForm if kind == VEHICLE else PersonSearchForm
    fields = VEHICLE_FIELDS if kind == VEHICLE else PERSON_FIELDS
    given = {name: values.get(name, "").strip() for name in fields}
    given = {name: value for name, value in given.items() if value}
    if not given:
        return Outcome(kind=kind, form=form_class(initial={"purpose": values["purpose"]}))
    form = form_class(values)
    form.is_valid()
    if kind == VEHICLE:
        return _vehicles(request, form, given)
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


def _context(outcome: Outcome, *, oob: bool) -> dict[str, Any]:
    form = outcome.form
    return {
        "kind": outcome.kind,
        "form": form,
        "outcome": outcome,
        "limit": PAGE_LIMIT,
        "results_template": f"ciss/partials/{outcome.kind}_results.html",
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
