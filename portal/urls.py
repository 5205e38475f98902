from django.urls import path

from portal.views import api_clients, audit, home, signin, support

app_name = "portal"

urlpatterns = [
    path("", home.home_view, name="home"),
    path("accounts/login/", signin.login_view, name="login"),
    path("accounts/logout/", signin.logout_view, name="logout"),
    path("accounts/verify/", signin.mfa_view, name="mfa"),
    path("accounts/mfa/enrol/", signin.mfa_enrol_view, name="mfa_enrol"),
    path("accounts/mfa/backup-codes/", signin.mfa_backup_codes_view, name="mfa_backup_codes"),
    path(
        "accounts/mfa/backup-codes/new/",
        home.backup_codes_regenerate_view,
        name="mfa_backup_codes_regenerate",
    ),
    path("accounts/password/", signin.password_change_view, name="password_change"),
    path("audit/", audit.audit_log_view, name="audit_log"),
    path("audit/export.csv", audit.audit_export_view, name="audit_export"),
    path("support/accounts/", support.account_list_view, name="support_accounts"),
    path("support/accounts/<uuid:public_id>/", support.account_detail_view, name="support_account"),
    path(
        "support/accounts/<uuid:public_id>/unlock/",
        support.account_unlock_view,
        name="support_unlock",
    ),
    path(
        "support/accounts/<uuid:public_id>/reset-password/",
        support.account_reset_password_view,
        name="support_reset_password",
    ),
    path(
        "support/accounts/<uuid:public_id>/reset-mfa/",
        support.account_reset_mfa_view,
        name="support_reset_mfa",
    ),
    path(
        "support/accounts/<uuid:public_id>/enable/",
        support.account_enable_view,
        name="support_enable",
    ),
    path(
        "support/accounts/<uuid:public_id>/disable/",
        support.account_disable_view,
        name="support_disable",
    ),
    path("api-clients/", api_clients.client_list_view, name="api_clients"),
    path("api-clients/new/", api_clients.client_create_view, name="api_client_create"),
    path(
        "api-clients/<uuid:public_id>/revoke/",
        api_clients.client_revoke_view,
        name="api_client_revoke",
    ),
]
