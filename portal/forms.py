from typing import Any, cast

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)

from portal.models import Agency, ApiScope, User


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.Select):
        return "usa-select"
    if isinstance(widget, forms.Textarea):
        return "usa-textarea"
    return "usa-input"


class PortalForm(forms.Form):
    """A form whose widgets carry the USWDS classes and point at their hints and errors."""

    # `{{ form }}` renders through this too (Django's default is its own div template,
    # whose ids do not match the aria-describedby set below).
    template_name = "partials/form.html"
    template_name_div = "partials/form.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue
            field.widget.attrs["class"] = _css_class(field.widget)
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            field = self.fields.get(name)
            if field is None or isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue
            attrs = field.widget.attrs
            attrs["class"] = f"{attrs['class']} usa-input--error"
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = " ".join(
                filter(None, [attrs.get("aria-describedby"), f"id_{name}-error"])
            )


class SignInForm(PortalForm):
    username = forms.CharField(
        label="Username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class VerificationCodeForm(PortalForm):
    code = forms.CharField(
        label="Verification code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return "".join(str(self.cleaned_data["code"]).split()).lower()


class PasswordChangeForm(PortalForm):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password = forms.CharField(
        label="New password",
        strip=False,
        help_text=" ".join(password_validators_help_texts()),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirm_password = forms.CharField(
        label="Confirm new password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self) -> str:
        value: str = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("Your current password is not right.", code="wrong")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        new, confirm = cleaned.get("new_password"), cleaned.get("confirm_password")
        if new is None:
            return cleaned
        if confirm is not None and new != confirm:
            self.add_error("confirm_password", "The two new passwords are not the same.")
            return cleaned
        if new == cleaned.get("current_password"):
            self.add_error("new_password", "Choose a password different from the current one.")
            return cleaned
        try:
            validate_password(new, self.user)
        except forms.ValidationError as error:
            self.add_error("new_password", error)
        return cleaned


class ReasonForm(PortalForm):
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="Ticket number or a short note; it is kept in the audit log.",
    )


class AccountSearchForm(PortalForm):
    q = forms.CharField(
        label="Find an account",
        required=False,
        max_length=150,
        help_text="Username, name, e-mail or agency ORI.",
    )


class ApiClientForm(PortalForm):
    agency = forms.ModelChoiceField(
        label="Agency", queryset=Agency.objects.filter(is_active=True), to_field_name="ori"
    )
    name = forms.CharField(
        label="Client name",
        max_length=100,
        help_text="The system that will use the key, e.g. 'Records system (Accucom)'.",
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Give only what the system needs.",
    )


class AuditFilterForm(PortalForm):
    user = forms.CharField(label="Username", required=False, max_length=150)
    agency = forms.CharField(label="Agency ORI", required=False, max_length=9)
    action = forms.ChoiceField(label="Action", required=False)
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, actions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = cast(forms.ChoiceField, self.fields["action"])
        action.choices = [("", "Any action"), *actions]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date is before the start date.")
        return cleaned
