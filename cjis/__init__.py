"""The CJIS Portal project package: settings, URLs, Celery app, WSGI/ASGI entry points."""

from cjis.celery import app as celery_app

__all__ = ["celery_app"]
