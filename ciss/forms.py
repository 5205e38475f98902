"""Forms of the CISS staff pages: routing rules, court locations, the routing preview and
the delivery problems' tabs."""

import re
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet

from ciss.exchanges.rules import rule_problems, unknown_court_message
from ciss.models import CourtLocation, ExchangeType, RoutingRule, RoutingTarget
from portal.forms import PortalForm
from portal.models import Agency, AgencyKind
from portal.roles import Claim, Role

COURT_CODE = re.compile(r"^[A-Z0-9-]+$")
COURT_CODE_HINT = "Letters, digits and hyphens, such as GA14 or HHD."


def _agencies(current: int | None, *kinds: str) -> QuerySet[Agency]:
    """Active agencies (of ``kinds``, when given), and the one already chosen even if it
    is no longer active, so editing does not silently drop it."""
    chosen = Q(is_active=True)
    if kinds:
        chosen &= Q(kind__in=kinds)
    if current is not None:
        chosen |= Q(pk=current)
    return Agency.objects.filter(chosen).order_by("name")


def _agency_field(form: forms.BaseForm, name: str, empty_label: str) -> None:
    field = cast(forms.ModelChoiceField[Agency], form.fields[name])
    field.empty_label = empty_label


def _court_code(value: str) -> str:
    code = value.strip().upper()
    if code and not COURT_CODE.match(code):
        raise forms.ValidationError(f"Use letters, digits and hyphens only. {COURT_CODE_HINT}")
    return code


class RoutingRuleForm(PortalForm, forms.ModelForm[RoutingRule]):
    """A rule as CJIS staff edit it. Empty conditions mean "any"; the agency is asked only
    for a named-agency target; the claim is optional."""

    class Meta:
        model = RoutingRule
        fields = [
            "name",
            "exchange_type",
            "court_code",
            "town",
            "sending_agency",
            "target",
            "agency",
            "role",
            "required_claim",
        ]
        labels = {
            "name": "Rule name",
            "exchange_type": "Type of exchange",
            "court_code": "Court location code",
            "town": "Town of the sending agency",
            "sending_agency": "Sending agency",
            "target": "Send to",
            "agency": "Named agency",
            "role": "Role of the people who receive",
            "required_claim": "Claim they must also hold",
        }
        help_texts = {
            "name": "Says what the rule does, e.g. “Early arrest notice to the GA14 clerks”.",
            "court_code": f"Empty: any court. {COURT_CODE_HINT}",
            "town": "Empty: any town.",
            "agency": "Only when “Send to” is a named agency.",
            "required_claim": "Empty: the role is enough.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        sending = cast(forms.ModelChoiceField[Agency], self.fields["sending_agency"])
        sending.queryset = _agencies(instance.sending_agency_id)
        named = cast(forms.ModelChoiceField[Agency], self.fields["agency"])
        named.queryset = _agencies(instance.agency_id)
        _agency_field(self, "sending_agency", "Any sending agency")
        _agency_field(self, "agency", "None: found from the exchange")
        kind = cast(forms.ChoiceField, self.fields["exchange_type"])
        kind.choices = [("", "Any type"), *ExchangeType.choices]
        claim = cast(forms.ChoiceField, self.fields["required_claim"])
        claim.choices = [("", "None: the role is enough"), *Claim.choices]
        target = cast(forms.ChoiceField, self.fields["target"])
        target.choices = [("", "- Select -"), *RoutingTarget.choices]
        role = cast(forms.ChoiceField, self.fields["role"])
        role.choices = [("", "- Select -"), *Role.choices]

    def clean_court_code(self) -> str:
        return _court_code(self.cleaned_data["court_code"])

    def clean_town(self) -> str:
        return str(self.cleaned_data["town"]).strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        target = cleaned.get("target")
        if not target:
            return cleaned
        problems = rule_problems(
            target=target,
            agency=cleaned.get("agency"),
            # A code the field refused already has its message.
            court_code=cleaned.get("court_code", ""),
        )
        for name, messages in problems.items():
            if name in self.fields and name not in self.errors:
                for message in messages:
                    self.add_error(name, message)
        return cleaned


class CourtLocationForm(PortalForm, forms.ModelForm[CourtLocation]):
    """A court location; its code is fixed once created, as rules and exchanges name it."""

    class Meta:
        model = CourtLocation
        fields = ["code", "name", "town", "court_agency", "prosecutor_agency"]
        labels = {
            "code": "Code",
            "court_agency": "Court whose clerks take its cases",
            "prosecutor_agency": "State's attorney's office",
        }
        help_texts = {"code": COURT_CODE_HINT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        court = cast(forms.ModelChoiceField[Agency], self.fields["court_agency"])
        court.queryset = _agencies(instance.court_agency_id, AgencyKind.COURT)
        prosecutor = cast(forms.ModelChoiceField[Agency], self.fields["prosecutor_agency"])
        prosecutor.queryset = _agencies(instance.prosecutor_agency_id, AgencyKind.PROSECUTOR)
        _agency_field(self, "court_agency", "- Select -")
        _agency_field(self, "prosecutor_agency", "None")
        if not instance._state.adding:
            code = self.fields["code"]
            code.disabled = True
            code.help_text = "The code cannot change: rules and exchanges refer to it."
            code.widget.attrs["aria-describedby"] = "id_code-hint"

    def clean_code(self) -> str:
        if not self.instance._state.adding:
            return self.instance.code
        code = _court_code(self.cleaned_data["code"])
        if code and CourtLocation.objects.filter(code__iexact=code).exists():
            raise forms.ValidationError(f"Court location {code} already exists.")
        return code


ACTIVE_CHOICES = [("active", "Active"), ("inactive", "Inactive"), ("all", "Active and inactive")]
EVERY_TYPE = "any"


class RoutingRuleFilterForm(PortalForm):
    exchange_type = forms.ChoiceField(
        label="Type of exchange",
        required=False,
        choices=[("", "All types"), (EVERY_TYPE, "Rules for every type"), *ExchangeType.choices],
    )
    status = forms.ChoiceField(label="Status", required=False, choices=ACTIVE_CHOICES)

    def filters(self) -> dict[str, Any]:
        """The ``routing_rules`` arguments this form asks for (all rules when invalid)."""
        if not self.is_valid():
            return {}
        kind = self.cleaned_data["exchange_type"]
        status = self.cleaned_data["status"] or "all"
        return {
            "exchange_type": "" if kind == EVERY_TYPE else (kind or None),
            "active": None if status == "all" else status == "active",
        }


class RoutingPreviewForm(PortalForm):
    exchange_type = forms.ChoiceField(
        label="Type of exchange", choices=[("", "- Select -"), *ExchangeType.choices]
    )
    court_code = forms.CharField(
        label="Court location code",
        required=False,
        max_length=20,
        help_text=f"As the records system would send it. {COURT_CODE_HINT}",
    )
    sending_agency = forms.ModelChoiceField(
        label="Sending (arresting) agency",
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        to_field_name="ori",
        empty_label="- Select -",
    )

    def clean_court_code(self) -> str:
        code = _court_code(self.cleaned_data["court_code"])
        if code and not CourtLocation.objects.filter(code__iexact=code).exists():
            raise forms.ValidationError(unknown_court_message(code))
        return code
