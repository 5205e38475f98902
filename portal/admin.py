from typing import TYPE_CHECKING, Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from portal import audit, services
from portal.access import acting_user
from portal.models import Agency, ApiClient, AuditEvent, ClaimGrant, RoleGrant, User

# Django's auth admin classes are generic only to the type checker.
if TYPE_CHECKING:
    _PasswordChangeForm = AdminPasswordChangeForm[User]
    _UserCreationForm = AdminUserCreationForm[User]
    _UserAdmin = UserAdmin[User]
else:
    _PasswordChangeForm = AdminPasswordChangeForm
    _UserCreationForm = AdminUserCreationForm
    _UserAdmin = UserAdmin


class AuditedAdmin(admin.ModelAdmin[Any]):
    """Every change made through the admin site also lands in the audit log."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit.record("admin.added", request=request, target=obj, details={"change": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit.record("admin.changed", request=request, target=obj, details={"change": message})
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            audit.record("admin.deleted", request=request, target=obj, details={"object": str(obj)})
        return super().log_deletions(request, queryset)


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["ori", "name", "kind", "town", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["ori", "name", "town"]


class RoleGrantInline(admin.TabularInline[RoleGrant, User]):
    model = RoleGrant
    fk_name = "user"
    extra = 0
    fields = ["role", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]


class ClaimGrantInline(admin.TabularInline[ClaimGrant, User]):
    model = ClaimGrant
    fk_name = "user"
    extra = 0
    fields = ["claim", "reason", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]


def _make_temporary(user: User) -> None:
    user.must_change_password = True
    user.temporary_password_expires_at = timezone.now() + settings.TEMPORARY_PASSWORD_LIFETIME


class TemporaryPasswordForm(_PasswordChangeForm):
    """A password set by an administrator is temporary: it must be replaced at first use."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=False)
        _make_temporary(user)
        if commit:
            user.save()
        return user


class NewUserForm(_UserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "agency")

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=False)
        _make_temporary(user)
        if commit:
            user.save()
        return user


@admin.register(User)
class PortalUserAdmin(AuditedAdmin, _UserAdmin):
    add_form = NewUserForm
    change_password_form = TemporaryPasswordForm
    list_display = ["username", "first_name", "last_name", "agency", "is_active", "last_login"]
    list_filter = ["is_active", "agency__kind", "role_grants__role"]
    search_fields = ["username", "first_name", "last_name", "email", "agency__ori"]
    list_select_related = ["agency"]
    inlines = [RoleGrantInline, ClaimGrantInline]
    readonly_fields = [
        "last_login",
        "date_joined",
        "password_changed_at",
        "temporary_password_expires_at",
    ]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "title", "phone", "agency")}),
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "disabled_reason",
                    "must_change_password",
                    "password_changed_at",
                    "temporary_password_expires_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
        ("Administration", {"fields": ("is_staff", "is_superuser")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "agency", "password1", "password2")}),
    )


@admin.register(ApiClient)
class ApiClientAdmin(AuditedAdmin):
    list_display = ["name", "agency", "scopes", "last_used_at", "revoked_at"]
    list_filter = ["agency__kind"]
    search_fields = ["name", "agency__ori", "agency__name"]
    readonly_fields = [
        "public_id",
        "key_prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    exclude = ["key_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are issued on the API clients page or with create_api_client, which show
        # the key once; the admin form could not.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = [
        "seq",
        "occurred_at",
        "actor_username",
        "agency",
        "action",
        "outcome",
        "object_type",
        "object_id",
        "ip",
    ]
    list_filter = ["outcome", "action"]
    search_fields = ["actor_username", "object_id", "action"]
    list_select_related = ["agency"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(admin.ModelAdmin[AccessAttempt]):
    """Failed sign-ins per username; unlocking goes through the audited service."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time"]
    search_fields = ["username", "ip_address"]
    fields = (
        "username",
        "ip_address",
        "user_agent",
        "failures_since_start",
        "attempt_time",
        "path_info",
    )
    readonly_fields = fields
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Unlock the selected usernames")
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        actor = acting_user(request)
        usernames = sorted(set(queryset.values_list("username", flat=True)))
        for user in User.objects.filter(username__in=usernames):
            services.account_unlock(
                actor=actor, user=user, request=request, reason="unlocked from the admin site"
            )
        messages.success(request, f"Unlocked: {', '.join(usernames)}.")
