from django.apps import AppConfig


class CissConfig(AppConfig):
    name = "ciss"
    verbose_name = "Information sharing (CISS)"

    def ready(self) -> None:
        from ciss.feeds import register_ciss_feed_kinds
        from obts.access import RECORD_ROLES
        from portal.context_processors import register_navigation

        register_ciss_feed_kinds()
        register_navigation("Search", "ciss:search", RECORD_ROLES)
