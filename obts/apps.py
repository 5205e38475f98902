from django.apps import AppConfig


class ObtsConfig(AppConfig):
    name = "obts"
    verbose_name = "Offender tracking (OBTS)"

    def ready(self) -> None:
        from obts import demo as obts_demo
        from obts.audit_actions import OBTS_ACTIONS
        from obts.services.records import register_obts_feed_kinds
        from obts.views import MERGE_ROLES, REPORT_ROLES
        from portal.audit import register_actions
        from portal.context_processors import register_navigation
        from portal.demo import register_seeder

        register_actions(OBTS_ACTIONS)
        register_seeder(obts_demo.seed)
        register_navigation("Reports", "obts:reports", REPORT_ROLES)
        register_navigation("Duplicates", "obts:duplicates", MERGE_ROLES)
        register_obts_feed_kinds()
