from django.apps import AppConfig


class CuarConfig(AppConfig):
    name = "cuar"
    verbose_name = "Access requests (CUAR)"
