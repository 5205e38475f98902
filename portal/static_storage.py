"""The static files storages of ``STORAGES["staticfiles"]``, each remembering the URL of
every file it was asked for.

Every page's frame names a dozen static files (styles, scripts, images), and
``{% static %}`` asks the storage each time: URL joining and quoting, and in production
a look-up in the manifest of hashed names. The answer for a name only changes with the
manifest, which a process loads once, and with ``DEBUG`` (under which the manifest
storage gives unhashed names), so it is kept per name and ``DEBUG``."""

from django.conf import settings
from django.contrib.staticfiles import storage
from whitenoise import storage as whitenoise_storage


class _RememberedUrls:
    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None:  # as asked: only the manifest storage knows force
            found: str = (
                super().url(name, force) if force else super().url(name)  # type: ignore[misc]
            )
            return found
        urls: dict[tuple[str, bool], str] = self.__dict__.setdefault("_remembered_urls", {})
        key = (name, settings.DEBUG)
        try:
            return urls[key]
        except KeyError:
            url: str = super().url(name)  # type: ignore[misc]
            urls[key] = url
            return url


class StaticFilesStorage(_RememberedUrls, storage.StaticFilesStorage):
    pass


class CompressedManifestStaticFilesStorage(
    _RememberedUrls,
    whitenoise_storage.CompressedManifestStaticFilesStorage,  # type: ignore[misc]
):
    pass
