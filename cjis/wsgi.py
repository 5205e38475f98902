"""WSGI entry point (gunicorn cjis.wsgi).

Each worker loads the application and its URL patterns (and with them every view's
module), then freezes what it loaded out of the garbage collector's full collections
(``portal.collector.freeze_loaded``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402  (needs the settings above)

from portal.collector import freeze_loaded  # noqa: E402

get_resolver().url_patterns  # noqa: B018  (imports the URLconf and every view module)
freeze_loaded()
