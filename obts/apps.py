from django.apps import AppConfig


class ObtsConfig(AppConfig):
    name = "obts"
    verbose_name = "Offender tracking (OBTS)"
