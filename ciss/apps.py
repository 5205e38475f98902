from django.apps import AppConfig


class CissConfig(AppConfig):
    name = "ciss"
    verbose_name = "Information sharing (CISS)"

    def ready(self) -> None:
        from ciss import demo as ciss_demo
        from ciss.feeds import register_ciss_feed_kinds
        from ciss.views import MISUSE_ROLES
        from obts.access import RECORD_ROLES
        from portal.context_processors import register_navigation
        from portal.demo import register_seeder

        register_ciss_feed_kinds()
        register_seeder(ciss_demo.seed)
        register_navigation("Search", "ciss:search", RECORD_ROLES)
        register_navigation("Misuse signals", "ciss:misuse", MISUSE_ROLES)
