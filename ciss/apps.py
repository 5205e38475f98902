from django.apps import AppConfig


class CissConfig(AppConfig):
    name = "ciss"
    verbose_name = "Information sharing (CISS)"

    def ready(self) -> None:
        from ciss import demo as ciss_demo
        from ciss.batch_views import BATCH_ROLES
        from ciss.certification_views import CERTIFICATION_READERS
        from ciss.feeds import register_ciss_feed_kinds
        from ciss.inbox import INBOX_ROLES, SENDER_ROLES
        from ciss.routing_views import DELIVERY_WATCHERS, ROUTING_MANAGERS
        from ciss.subscriptions import records_changed_listener
        from ciss.views import MISUSE_ROLES
        from obts.access import RECORD_ROLES
        from obts.services.changes import register_change_listener
        from portal.context_processors import register_navigation
        from portal.demo import register_seeder

        register_ciss_feed_kinds()
        register_seeder(ciss_demo.seed)
        register_seeder(ciss_demo.seed_routing)
        register_navigation("Search", "ciss:search", RECORD_ROLES)
        register_navigation("Inbox", "ciss:inbox", INBOX_ROLES)
        register_navigation("Sent exchanges", "ciss:sent", SENDER_ROLES)
        register_navigation("Batch search", "ciss:batch_list", BATCH_ROLES)
        register_navigation("Misuse signals", "ciss:misuse", MISUSE_ROLES)
        register_navigation("Certification", "ciss:certification", CERTIFICATION_READERS)
        register_navigation("Routing rules", "ciss:routing_rules", ROUTING_MANAGERS)
        register_navigation("Delivery problems", "ciss:delivery_problems", DELIVERY_WATCHERS)
        register_navigation("Following", "ciss:following", RECORD_ROLES)
        register_change_listener(records_changed_listener)
        import ciss.exchanges.routing  # noqa: F401  (drops the cached routing book on changes)
