"""The frame's URLs are remembered: the static files storages keep each file's URL and
the navigation keeps each page's. What they give must be what Django gives, and follow
what it depends on (DEBUG for the manifest's hashed names, the script prefix)."""

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import storage as django_storage
from django.test import Client
from django.urls import clear_script_prefix, reverse, set_script_prefix
from pytest_django.fixtures import Settings as SettingsWrapper

from portal.context_processors import portal
from portal.models import User
from portal.static_storage import CompressedManifestStaticFilesStorage, StaticFilesStorage
from tests.conftest import sign_in


def test_a_static_url_is_djangos_and_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["css/portal.css", "uswds/img/icon dot gov.svg"]
    djangos = {name: django_storage.StaticFilesStorage().url(name) for name in names}
    ours = StaticFilesStorage()
    asked: list[str | None] = []
    original = django_storage.StaticFilesStorage.url

    def counting(self: object, name: str | None) -> str:
        asked.append(name)
        return original(self, name)  # type: ignore[arg-type]

    monkeypatch.setattr(django_storage.StaticFilesStorage, "url", counting)
    for _ in range(3):
        assert {name: ours.url(name) for name in names} == djangos
    assert asked == names  # each asked of Django once


def test_the_manifest_storage_gives_hashed_names_and_follows_debug(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    (tmp_path / "staticfiles.json").write_text(
        json.dumps({"version": "1.1", "paths": {"css/portal.css": "css/portal.0123abcd.css"}})
    )
    settings.STATIC_URL = "/static/"
    settings.DEBUG = False
    storage = CompressedManifestStaticFilesStorage(location=str(tmp_path))

    assert storage.url("css/portal.css") == "/static/css/portal.0123abcd.css"
    assert storage.url("css/portal.css") == "/static/css/portal.0123abcd.css"
    settings.DEBUG = True  # the manifest storage gives unhashed names under DEBUG
    assert storage.url("css/portal.css") == "/static/css/portal.css"
    assert storage.url("css/portal.css", force=True) == "/static/css/portal.0123abcd.css"
    settings.DEBUG = False
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("css/missing.css")  # a file not collected is still an error


@pytest.mark.django_db
def test_the_navigation_follows_the_script_prefix(client: Client, administrator: User) -> None:
    sign_in(client, administrator)
    request = client.get("/").wsgi_request
    request.user = User.objects.get(pk=administrator.pk)
    request.user.is_verified = lambda: True  # type: ignore[attr-defined]
    try:
        links = {item["label"]: item["url"] for item in portal(request)["navigation"]}
        assert links["Home"] == reverse("portal:home") == "/"
        assert links["Administration"] == reverse("admin:index")
        set_script_prefix("/portal/")
        moved = {item["label"]: item["url"] for item in portal(request)["navigation"]}
        assert moved["Home"] == "/portal/"
        assert moved["Administration"] == reverse("admin:index")
        assert moved["Administration"].startswith("/portal/")
    finally:
        clear_script_prefix()
        set_script_prefix("/")
