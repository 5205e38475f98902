from django.apps import AppConfig


class CissConfig(AppConfig):
    name = "ciss"
    verbose_name = "Information sharing (CISS)"

    def ready(self) -> None:
        from ciss.feeds import register_ciss_feed_kinds

        register_ciss_feed_kinds()
