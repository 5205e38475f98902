from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Identity and access"
    default = True

    def ready(self) -> None:
        from portal.audit import register_actions
        from portal.audit_actions import PORTAL_ACTIONS

        register_actions(PORTAL_ACTIONS)
        import portal.api.authentication  # clears cached API clients when one is saved
        import portal.api.schema  # noqa: F401  (registers the OpenAPI auth scheme)


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin site, with MFA and the portal's own sign-in in front of it."""

    default = False
    default_site = "portal.admin_site.PortalAdminSite"
