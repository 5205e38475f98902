"""The API base: bearer keys per agency client, scopes, rate limits, JSON errors, the
OpenAPI schema; and the portal pages that issue and revoke keys."""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.response import Response as DrfResponse
from rest_framework.views import APIView

from portal import services
from portal.models import Agency, ApiClient, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Role
from tests.factories import AgencyFactory, UserFactory, add_totp_device, make_api_client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(r"cjis_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api_client_and_key(agency: Agency) -> tuple[ApiClient, str]:
    return make_api_client(agency, [ApiScope.SEARCH_READ, ApiScope.RECORDS_READ])


@pytest.fixture
def key(api_client_and_key: tuple[ApiClient, str]) -> str:
    return api_client_and_key[1]


def _whoami(client: Client, headers: dict[str, str] | None = None) -> "Response":
    return client.get(reverse("api-client"), headers=headers or {})


# ---------------------------------------------------------------------------------------
# Authentication


def test_request_without_key_gets_401_json(client: Client) -> None:
    response = _whoami(client)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_request_without_key_is_told_to_use_bearer(client: Client) -> None:
    response = _whoami(client)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Token abc", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
def test_malformed_authorization_header_gets_401_explaining_the_form(
    client: Client, header: str
) -> None:
    response = _whoami(client, {"Authorization": header})
    assert response.status_code == 401
    assert "Authorization: Bearer <key>" in response.json()["detail"]


@pytest.mark.parametrize(
    "wrong_key", ["not-a-key", "cjis_deadbeef_nosuchkeyatall", "cjis_short_key"]
)
def test_unknown_key_gets_401(client: Client, wrong_key: str) -> None:
    response = _whoami(client, _bearer(wrong_key))
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key is not valid."


def test_known_prefix_with_wrong_secret_gets_401(client: Client, key: str) -> None:
    scheme, prefix, _ = key.split("_", 2)
    response = _whoami(client, _bearer(f"{scheme}_{prefix}_{'x' * 43}"))
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key is not valid."


def test_revoked_key_gets_401_saying_so(
    client: Client, api_client_and_key: tuple[ApiClient, str], administrator: User
) -> None:
    api_client, key = api_client_and_key
    services.api_client_revoke(actor=administrator, client=api_client, request=None)
    response = _whoami(client, _bearer(key))
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key was revoked."


def test_key_of_inactive_agency_gets_401(client: Client, agency: Agency, key: str) -> None:
    agency.is_active = False
    agency.save(update_fields=["is_active"])
    response = _whoami(client, _bearer(key))
    assert response.status_code == 401
    assert "not active" in response.json()["detail"]


def test_valid_key_gets_its_client(
    client: Client, api_client_and_key: tuple[ApiClient, str], agency: Agency
) -> None:
    api_client, key = api_client_and_key
    response = _whoami(client, _bearer(key))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(api_client.public_id)
    assert body["name"] == "Records system"
    assert body["agency"]["ori"] == agency.ori
    assert sorted(body["scopes"]) == ["records:read", "search:read"]


def test_valid_key_records_when_it_was_last_used(
    client: Client, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, key = api_client_and_key
    moment = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        _whoami(client, _bearer(key))
    api_client.refresh_from_db()
    assert api_client.last_used_at == moment


def test_last_used_is_not_rewritten_within_a_minute(
    client: Client, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, key = api_client_and_key
    moment = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        _whoami(client, _bearer(key))
    with time_machine.travel(moment + timedelta(seconds=59), tick=False):
        _whoami(client, _bearer(key))
    api_client.refresh_from_db()
    assert api_client.last_used_at == moment


def test_last_used_is_rewritten_after_a_minute(
    client: Client, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, key = api_client_and_key
    moment = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        _whoami(client, _bearer(key))
    later = moment + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        _whoami(client, _bearer(key))
    api_client.refresh_from_db()
    assert api_client.last_used_at == later


def test_signed_in_browser_session_is_not_an_api_credential(
    signed_in: Callable[[User], Client], administrator: User
) -> None:
    response = _whoami(signed_in(administrator))
    assert response.status_code == 401


# ---------------------------------------------------------------------------------------
# Scopes


class RecordsView(APIView):
    required_scopes = frozenset({ApiScope.RECORDS_READ.value, ApiScope.SEARCH_READ.value})

    def get(self, request: Request) -> DrfResponse:
        return DrfResponse({"ok": True})


class UndeclaredView(APIView):
    def get(self, request: Request) -> DrfResponse:
        return DrfResponse({"ok": True})


def _call(view: Callable[..., Any], key: str) -> DrfResponse:
    request = RequestFactory().get("/api/v1/records/", HTTP_AUTHORIZATION=f"Bearer {key}")
    response: DrfResponse = view(request)
    return response


def test_key_lacking_a_required_scope_gets_403_naming_it(agency: Agency) -> None:
    _, key = make_api_client(agency, [ApiScope.SEARCH_READ])
    response = _call(RecordsView.as_view(), key)
    assert response.status_code == 403
    assert response.data["detail"] == "This API key lacks the scope(s): records:read."


def test_key_with_every_required_scope_is_served(agency: Agency) -> None:
    _, key = make_api_client(agency, [ApiScope.SEARCH_READ, ApiScope.RECORDS_READ])
    response = _call(RecordsView.as_view(), key)
    assert response.status_code == 200


def test_view_declaring_no_scopes_is_closed(agency: Agency) -> None:
    _, key = make_api_client(agency, list(ApiScope.values))
    response = _call(UndeclaredView.as_view(), key)
    assert response.status_code == 403
    assert "declares no scope" in response.data["detail"]


# ---------------------------------------------------------------------------------------
# Rate limits


@pytest.fixture
def limited_key(api_client_and_key: tuple[ApiClient, str]) -> str:
    api_client, key = api_client_and_key
    api_client.rate_limit_per_minute = 3
    api_client.save(update_fields=["rate_limit_per_minute"])
    return key


def test_client_within_its_rate_limit_is_served(client: Client, limited_key: str) -> None:
    statuses = [_whoami(client, _bearer(limited_key)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_client_over_its_rate_limit_gets_429_with_retry_after(
    client: Client, limited_key: str
) -> None:
    for _ in range(3):
        _whoami(client, _bearer(limited_key))
    response = _whoami(client, _bearer(limited_key))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"]


def test_one_clients_limit_does_not_throttle_another(
    client: Client, limited_key: str, other_agency: Agency
) -> None:
    for _ in range(4):
        _whoami(client, _bearer(limited_key))
    _, other_key = make_api_client(other_agency, [ApiScope.SEARCH_READ])
    assert _whoami(client, _bearer(other_key)).status_code == 200


def test_refused_requests_count_and_retry_after_points_at_the_next_minute(
    client: Client, limited_key: str
) -> None:
    moment = datetime(2026, 5, 1, 14, 0, 45, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        statuses = [_whoami(client, _bearer(limited_key)).status_code for _ in range(5)]
        refused = _whoami(client, _bearer(limited_key))
    assert statuses == [200, 200, 200, 429, 429]
    assert refused["Retry-After"] == "15"
    with time_machine.travel(moment + timedelta(seconds=15), tick=False):
        assert _whoami(client, _bearer(limited_key)).status_code == 200


def test_rate_limit_resets_after_a_minute(client: Client, limited_key: str) -> None:
    moment = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        for _ in range(4):
            _whoami(client, _bearer(limited_key))
    with time_machine.travel(moment + timedelta(seconds=61), tick=False):
        assert _whoami(client, _bearer(limited_key)).status_code == 200


# ---------------------------------------------------------------------------------------
# Errors, schema and docs


def test_unknown_api_path_gets_404_json(client: Client, key: str) -> None:
    response = client.get("/api/v1/no-such-endpoint/", headers=_bearer(key))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def _schema(client: Client) -> dict[str, Any]:
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema: dict[str, Any] = json.loads(response.content)
    return schema


def test_schema_is_an_openapi_3_document(client: Client) -> None:
    schema = _schema(client)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/client/" in schema["paths"]


def test_schema_declares_the_bearer_security_scheme(client: Client) -> None:
    schemes = _schema(client)["components"]["securitySchemes"]
    assert [scheme["type"] for scheme in schemes.values()] == ["http"]
    assert [scheme["scheme"] for scheme in schemes.values()] == ["bearer"]


def test_schema_requires_the_bearer_key_on_endpoints(client: Client) -> None:
    schema = _schema(client)
    (name,) = schema["components"]["securitySchemes"]
    assert schema["paths"]["/api/v1/client/"]["get"]["security"] == [{name: []}]


def test_docs_page_renders_for_anyone(client: Client) -> None:
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_docs_page_loads_scripts_from_the_portal_only(client: Client) -> None:
    html = client.get(reverse("api-docs")).content.decode()
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    assert sources
    assert all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    stylesheets = re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", html)
    assert all(href.startswith("/") and not href.startswith("//") for href in stylesheets)


def test_docs_page_has_no_inline_script(client: Client) -> None:
    # The portal's CSP allows scripts from 'self' only: an inline script would not run.
    html = client.get(reverse("api-docs")).content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert inline == []


# ---------------------------------------------------------------------------------------
# Keys are stored hashed


def test_api_key_is_stored_only_as_its_hash(agency: Agency, administrator: User) -> None:
    api_client, key, _ = services.api_client_issue_key(
        agency=agency, name="Records system", scopes=["search:read"], actor=administrator
    )
    secret = key.split("_", 2)[2]
    stored = ApiClient.objects.filter(pk=api_client.pk).values().get()
    assert not any(secret in str(value) for value in stored.values())
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()


def test_api_key_is_not_written_to_the_audit_log(agency: Agency, administrator: User) -> None:
    _, key, _ = services.api_client_issue_key(
        agency=agency, name="Records system", scopes=["search:read"], actor=administrator
    )
    secret = key.split("_", 2)[2]
    for event in AuditEvent.objects.all():
        assert secret not in json.dumps(event.details)


# ---------------------------------------------------------------------------------------
# The API client pages


@pytest.fixture
def security(db: None) -> User:
    cjis = AgencyFactory.create(ori="CTCJIS000", name="CJIS", kind="cjis")
    user = UserFactory.create(username="security", agency=cjis, roles=[Role.CJIS_SECURITY])
    add_totp_device(user)
    return user


@pytest.fixture
def security_client(signed_in: Callable[[User], Client], security: User) -> Client:
    return signed_in(security)


def _issue(client: Client, agency: Agency, name: str = "Accucom RMS") -> "Response":
    return client.post(
        reverse("portal:api_client_create"),
        {"agency": agency.ori, "name": name, "scopes": ["search:read", "exchanges:submit"]},
    )


def test_create_page_shows_the_form(security_client: Client) -> None:
    response = security_client.get(reverse("portal:api_client_create"))
    assert response.status_code == 200
    assert b"Client name" in response.content


def test_creating_a_client_shows_its_key_once(security_client: Client, agency: Agency) -> None:
    response = _issue(security_client, agency)
    assert response.status_code == 200
    assert len(set(KEY_PATTERN.findall(response.content.decode()))) == 1
    assert b"shown only once" in response.content


def test_created_key_works_on_the_api(
    security_client: Client, agency: Agency, client: Client
) -> None:
    response = _issue(security_client, agency)
    (key,) = set(KEY_PATTERN.findall(response.content.decode()))
    security_client.logout()
    answer = _whoami(client, _bearer(key))
    assert answer.status_code == 200
    assert answer.json()["agency"]["ori"] == agency.ori
    assert sorted(answer.json()["scopes"]) == ["exchanges:submit", "search:read"]


def test_creating_a_client_is_audited(
    security_client: Client, agency: Agency, security: User
) -> None:
    _issue(security_client, agency)
    event = AuditEvent.objects.get(action="api_client.created")
    assert event.actor == security
    assert event.agency == agency


def test_create_with_no_scope_is_refused_with_a_form_error(
    security_client: Client, agency: Agency
) -> None:
    response = security_client.post(
        reverse("portal:api_client_create"), {"agency": agency.ori, "name": "Accucom RMS"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["scopes"]
    assert not ApiClient.objects.exists()


def test_list_shows_the_key_prefix_but_not_the_key(security_client: Client, agency: Agency) -> None:
    (key,) = set(KEY_PATTERN.findall(_issue(security_client, agency).content.decode()))
    api_client = ApiClient.objects.get()
    response = security_client.get(reverse("portal:api_clients"))
    assert response.status_code == 200
    assert f"cjis_{api_client.key_prefix}_…".encode() in response.content
    assert b"Accucom RMS" in response.content
    assert key.encode() not in response.content


def test_a_key_in_use_stops_at_once_when_revoked(
    client: Client, api_client_and_key: tuple[ApiClient, str], administrator: User
) -> None:
    # The client is cached after its first request; revoking clears it.
    api_client, key = api_client_and_key
    assert _whoami(client, _bearer(key)).status_code == 200
    services.api_client_revoke(actor=administrator, client=api_client, request=None)
    assert _whoami(client, _bearer(key)).json()["detail"] == "The API key was revoked."


def test_a_replaced_key_in_use_stops_at_once(
    client: Client, api_client_and_key: tuple[ApiClient, str], administrator: User
) -> None:
    api_client, old_key = api_client_and_key
    assert _whoami(client, _bearer(old_key)).status_code == 200
    _, new_key, _ = services.api_client_issue_key(
        actor=administrator,
        agency=api_client.agency,
        name=api_client.name,
        scopes=api_client.scopes,
        request=None,
    )
    assert _whoami(client, _bearer(old_key)).status_code == 401
    assert _whoami(client, _bearer(new_key)).status_code == 200


def test_a_key_in_use_stops_at_once_when_its_agency_is_deactivated(
    client: Client, api_client_and_key: tuple[ApiClient, str], agency: Agency
) -> None:
    _, key = api_client_and_key
    assert _whoami(client, _bearer(key)).status_code == 200
    agency.is_active = False
    agency.save()
    assert _whoami(client, _bearer(key)).json()["detail"] == "The key's agency is not active."


def test_a_scope_taken_from_a_key_in_use_is_refused_at_once(
    client: Client, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, key = api_client_and_key
    assert _whoami(client, _bearer(key)).status_code == 200
    api_client.scopes = [ApiScope.RECORDS_READ]
    api_client.save(update_fields=["scopes"])
    response = client.get(
        reverse("api-search-vehicles"), {"plate": "ABC1234"}, headers=_bearer(key)
    )
    assert response.status_code == 403


def test_a_key_in_use_is_not_read_from_the_database_again(
    client: Client, key: str, django_assert_num_queries: Any
) -> None:
    _whoami(client, _bearer(key))  # reads the client and stamps its last use
    with django_assert_num_queries(0):
        assert _whoami(client, _bearer(key)).status_code == 200


def test_revoking_a_client_stops_its_key(
    security_client: Client, api_client_and_key: tuple[ApiClient, str], client: Client
) -> None:
    api_client, key = api_client_and_key
    response = security_client.post(
        reverse("portal:api_client_revoke", kwargs={"public_id": api_client.public_id})
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:api_clients")
    security_client.logout()
    assert _whoami(client, _bearer(key)).json()["detail"] == "The API key was revoked."


def test_revoking_a_client_is_audited(
    security_client: Client, api_client_and_key: tuple[ApiClient, str], security: User
) -> None:
    api_client, _ = api_client_and_key
    security_client.post(
        reverse("portal:api_client_revoke", kwargs={"public_id": api_client.public_id})
    )
    api_client.refresh_from_db()
    assert api_client.revoked_by == security
    event = AuditEvent.objects.get(action="api_client.revoked")
    assert event.actor == security
    assert event.object_id == str(api_client.public_id)


def test_list_shows_a_revoked_client_as_revoked(
    security_client: Client, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, _ = api_client_and_key
    security_client.post(
        reverse("portal:api_client_revoke", kwargs={"public_id": api_client.public_id})
    )
    response = security_client.get(reverse("portal:api_clients"))
    assert b"Revoked" in response.content
    assert f"Revoke the key of {api_client.name}".encode() not in response.content


def test_revoke_by_get_is_refused(
    security_client: Client, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, _ = api_client_and_key
    response = security_client.get(
        reverse("portal:api_client_revoke", kwargs={"public_id": api_client.public_id})
    )
    assert response.status_code == 405
    api_client.refresh_from_db()
    assert api_client.revoked_at is None


def test_revoke_of_unknown_client_is_404(security_client: Client) -> None:
    response = security_client.post(
        reverse(
            "portal:api_client_revoke",
            kwargs={"public_id": "00000000-0000-0000-0000-000000000000"},
        )
    )
    assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["portal:api_clients", "portal:api_client_create"])
def test_officer_gets_403_on_api_client_pages(
    signed_in: Callable[[User], Client], officer: User, url_name: str
) -> None:
    assert signed_in(officer).get(reverse(url_name)).status_code == 403


def test_officer_cannot_create_a_client(
    signed_in: Callable[[User], Client], officer: User, agency: Agency
) -> None:
    response = _issue(signed_in(officer), agency)
    assert response.status_code == 403
    assert not ApiClient.objects.exists()


def test_officer_cannot_revoke_a_client(
    signed_in: Callable[[User], Client], officer: User, api_client_and_key: tuple[ApiClient, str]
) -> None:
    api_client, _ = api_client_and_key
    response = signed_in(officer).post(
        reverse("portal:api_client_revoke", kwargs={"public_id": api_client.public_id})
    )
    assert response.status_code == 403
    api_client.refresh_from_db()
    assert api_client.revoked_at is None


def test_anonymous_visitor_is_sent_to_sign_in_from_api_client_pages(client: Client) -> None:
    response = client.get(reverse("portal:api_clients"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
