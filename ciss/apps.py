from django.apps import AppConfig


class CissConfig(AppConfig):
    name = "ciss"
    verbose_name = "Information sharing (CISS)"
