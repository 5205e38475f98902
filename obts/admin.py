"""OBTS in the admin site: read-mostly. Records arrive through the feeds, which would
overwrite an edit made here, so records are shown, not added or deleted; provenance and
links to persons are never editable. What may be corrected here (a person's identifying
data and caution, a record's own fields) goes through ``AuditedAdmin`` and recomputes the
person's status and flags. Possible duplicates and merges are decided in the review
workflow, not here."""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from obts.models import (
    Address,
    Case,
    Charge,
    CustodyPeriod,
    Infraction,
    Person,
    PersonIdentifier,
    PersonMerge,
    PersonName,
    PersonSource,
    PossibleDuplicate,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    Warrant,
)
from obts.status import person_recompute
from portal.admin import AuditedAdmin

PROVENANCE = ("public_id", "source_system", "source_id", "as_of", "received_at")


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonNameInline(ReadOnlyInline):
    model = PersonName
    fields = ("is_primary", "first_name", "middle_name", "last_name", "suffix", "dob", "source")


class PersonIdentifierInline(ReadOnlyInline):
    model = PersonIdentifier
    fields = ("kind", "value", "state", "source")


class AddressInline(ReadOnlyInline):
    model = Address
    fields = ("line1", "line2", "city", "state", "postal_code", "from_date", "to_date", "source")


class PersonSourceInline(ReadOnlyInline):
    model = PersonSource
    fields = ("source_system", "source_id", "as_of", "received_at")


class NoAddNoDelete(AuditedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(NoAddNoDelete):
    list_display = ("public_id", "__str__", "status", "flags", "updated_at")
    list_filter = ["status"]
    search_fields = ["public_id", "names__last_name", "identifiers__value"]
    readonly_fields = (
        "public_id",
        "status",
        "flags",
        "status_computed_at",
        "merged_into",
        "created_at",
        "updated_at",
    )
    fields = (
        *readonly_fields,
        "sex",
        "race",
        "height_in",
        "weight_lb",
        "eye_color",
        "hair_color",
        "scars_marks_tattoos",
        "caution",
    )
    inlines = (PersonNameInline, PersonIdentifierInline, AddressInline, PersonSourceInline)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return super().get_queryset(request).prefetch_related("names")

    def save_model(
        self, request: HttpRequest, obj: Model, form: ModelForm[Any], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if isinstance(obj, Person):
            person_recompute(obj)


class RecordAdmin(NoAddNoDelete):
    """A source record: its own fields may be corrected; its provenance and person not."""

    list_select_related = ("person",)
    search_fields = ["source_id", "person__public_id"]
    list_filter = ["source_system"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*PROVENANCE, "person")

    def save_model(
        self, request: HttpRequest, obj: Model, form: ModelForm[Any], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        person = getattr(obj, "person", None)
        if isinstance(person, Person):
            person_recompute(person)


class ChargeInline(ReadOnlyInline):
    model = Charge
    fields = (
        "sequence",
        "statute",
        "description",
        "charge_class",
        "counts",
        "plea",
        "disposition",
        "disposition_date",
    )


@admin.register(Case)
class CaseAdmin(RecordAdmin):
    list_display = ("docket_number", "court_code", "status", "arrest_date", "source_system")
    list_filter = ["status", "source_system", "is_juvenile", "is_sealed"]
    search_fields = ["docket_number", "source_id", "person__public_id"]
    inlines = (ChargeInline,)


@admin.register(Sentence)
class SentenceAdmin(RecordAdmin):
    list_display = ("imposed_on", "relation", "starts_on", "max_release_on", "source_system")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Dates are computed (obts.timecalc); links between records come from the feed.
        return (
            *super().get_readonly_fields(request, obj),
            "case",
            "consecutive_to",
            "starts_on",
            "max_release_on",
            "supervision_ends_on",
            "calculation",
        )


@admin.register(CustodyPeriod)
class CustodyPeriodAdmin(RecordAdmin):
    list_display = ("facility", "custody_status", "admitted_on", "released_on", "source_system")
    list_filter = ["custody_status", "source_system"]


@admin.register(Supervision)
class SupervisionAdmin(RecordAdmin):
    list_display = ("kind", "status", "start_date", "end_date", "source_system")
    list_filter = ["kind", "status", "source_system"]


@admin.register(ProtectiveOrder)
class ProtectiveOrderAdmin(RecordAdmin):
    list_display = ("kind", "status", "issued_on", "expires_on", "source_system")
    list_filter = ["status", "source_system"]


@admin.register(Warrant)
class WarrantAdmin(RecordAdmin):
    list_display = ("kind", "status", "issued_on", "served_on", "source_system")
    list_filter = ["status", "source_system"]


@admin.register(Registration)
class RegistrationAdmin(RecordAdmin):
    list_display = ("registered_on", "term", "compliance_status", "source_system")
    list_filter = ["compliance_status", "source_system"]


@admin.register(Infraction)
class InfractionAdmin(RecordAdmin):
    list_display = ("ticket_number", "offense_date", "status", "source_system")
    search_fields = ["ticket_number", "source_id", "person__public_id"]


class ViewOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(ViewOnlyAdmin):
    list_display = ("new_person", "existing_person", "score", "status", "created_at")
    list_filter = ["status"]
    list_select_related = ("person", "candidate")
    readonly_fields = ("reasons",)

    @admin.display(description="new person")
    def new_person(self, obj: PossibleDuplicate) -> str:
        return str(obj.person.public_id)

    @admin.display(description="existing person")
    def existing_person(self, obj: PossibleDuplicate) -> str:
        return str(obj.candidate.public_id)


@admin.register(PersonMerge)
class PersonMergeAdmin(ViewOnlyAdmin):
    list_display = (
        "survivor_id_shown",
        "merged_id_shown",
        "performed_by",
        "performed_at",
        "reason",
        "undone_at",
    )
    list_select_related = ("survivor", "merged", "performed_by")

    @admin.display(description="survivor")
    def survivor_id_shown(self, obj: PersonMerge) -> str:
        return str(obj.survivor.public_id)

    @admin.display(description="merged")
    def merged_id_shown(self, obj: PersonMerge) -> str:
        return str(obj.merged.public_id)
