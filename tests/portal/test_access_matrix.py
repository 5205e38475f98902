"""Deny by default: every URL carries an access rule, and the access middleware answers
each kind of visitor as the rule says.

The matrix is built from the project's URL patterns, so a new view is checked the moment
it is routed. A view whose URL takes arguments needs a sample value in ``SAMPLE_KWARGS``
(or ``SAMPLE_KWARGS_BY_URL``); without one its matrix tests fail and say so.
"""

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.urls.resolvers import RoutePattern
from pytest_django.fixtures import Settings as SettingsWrapper

import cjis.urls
from ciss.models import BatchSearch
from portal.access import AccessRule, Level, rule_for, signed_in
from portal.models import Agency, ApiClient, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Role
from tests.conftest import sign_in
from tests.factories import AgencyFactory, UserFactory, add_totp_device, make_api_client
from tests.obts.factories_records import PersonFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


# The URL names anonymous visitors must reach. A rule changed to public (or an API view
# opened with AllowAny) without being listed here fails the matrix; a listed page that
# starts refusing anonymous visitors fails too.
PUBLIC_URL_NAMES = frozenset({"portal:login", "healthz", "readyz", "api-schema", "api-docs"})


# ---------------------------------------------------------------------------------------
# Walking the URL patterns


@dataclass(frozen=True)
class Route:
    """One URL pattern of the project, with where it sits."""

    name: str  # namespaced URL name ("portal:home"), or "" for an unnamed pattern
    route: str  # the full pattern text, for messages
    callback: Callable[..., Any]
    namespaces: tuple[str, ...]
    kwargs: tuple[str, ...]
    positional: bool  # takes unnamed regex groups: cannot be reversed with kwargs

    @property
    def label(self) -> str:
        return self.name or self.route

    @property
    def rule(self) -> AccessRule | None:
        return rule_for(self.callback, list(self.namespaces))


def _pattern_kwargs(pattern: URLPattern | URLResolver) -> tuple[tuple[str, ...], bool]:
    if isinstance(pattern.pattern, RoutePattern):
        return tuple(pattern.pattern.converters), False
    regex = pattern.pattern.regex
    return tuple(regex.groupindex), regex.groups > len(regex.groupindex)


def _walk(
    patterns: Sequence[URLPattern | URLResolver],
    prefix: str = "",
    namespaces: tuple[str, ...] = (),
    kwargs: tuple[str, ...] = (),
    positional: bool = False,
) -> Iterator[Route]:
    for pattern in patterns:
        own_kwargs, own_positional = _pattern_kwargs(pattern)
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(
                pattern.url_patterns,
                route,
                inner,
                (*kwargs, *own_kwargs),
                positional or own_positional,
            )
        else:
            name = ":".join((*namespaces, pattern.name)) if pattern.name else ""
            yield Route(
                name=name,
                route=route,
                callback=pattern.callback,
                namespaces=namespaces,
                kwargs=(*kwargs, *own_kwargs),
                positional=positional or own_positional,
            )


ALL_ROUTES = list(_walk(get_resolver().url_patterns))


def _is_admin(route: Route) -> bool:
    return route.namespaces[:1] == ("admin",)


def _is_static(route: Route) -> bool:
    return route.route.lstrip("^/").startswith(("static/", "media/"))


MATRIX_ROUTES = [route for route in ALL_ROUTES if not _is_admin(route) and not _is_static(route)]
MATRIX_IDS = [route.label for route in MATRIX_ROUTES]


def _role_cases() -> Iterator[Any]:
    """(route, role) for every role a route's rule names; (route, None) for the others."""
    for route in MATRIX_ROUTES:
        rule = route.rule
        roles: list[str | None] = [*sorted(rule.roles)] if rule is not None else []
        for role in roles or [None]:
            yield pytest.param(route, role, id=f"{route.label}-{role or 'any'}")


# ---------------------------------------------------------------------------------------
# Concrete URLs


@dataclass(frozen=True)
class Samples:
    user: User
    api_client: ApiClient


# Sample values for URL arguments, by argument name ...
SAMPLE_KWARGS: dict[str, Callable[[Samples], object]] = {
    "public_id": lambda samples: samples.user.public_id,
    # A record feed kind (POST /api/v1/feeds/{kind}/).
    "kind": lambda samples: "warrants",
}
# ... and where the same argument name means another object, by URL name.
SAMPLE_KWARGS_BY_URL: dict[str, dict[str, Callable[[Samples], object]]] = {
    "portal:api_client_revoke": {"public_id": lambda samples: samples.api_client.public_id},
    # A person of the master name index (the record page asks for a purpose first; the
    # API answers the record).
    "obts:person": {"public_id": lambda samples: PersonFactory.create().public_id},
    "obts:person_views": {"public_id": lambda samples: PersonFactory.create().public_id},
    "api-person": {"public_id": lambda samples: PersonFactory.create().public_id},
    # A court location, by its code.
    "ciss:court_location_edit": {"code": lambda samples: "GA14"},
    # A batch search of the sample user's (others get 404, auditors see it).
    "ciss:batch_detail": {"public_id": lambda samples: _sample_batch(samples).public_id},
    "ciss:batch_progress": {"public_id": lambda samples: _sample_batch(samples).public_id},
    "ciss:batch_download": {"public_id": lambda samples: _sample_batch(samples).public_id},
}


def _sample_batch(samples: Samples) -> BatchSearch:
    return BatchSearch.objects.create(
        owner=samples.user, purpose="audit", file_name="sample.csv", row_count=1
    )


@pytest.fixture
def samples(agency: Agency) -> Samples:
    user = UserFactory.create(username="sample-user", agency=agency, roles=[Role.OFFICER])
    api_client, _ = make_api_client(agency, [ApiScope.SEARCH_READ], name="Sample client")
    return Samples(user=user, api_client=api_client)


def _url(route: Route, samples: Samples) -> str:
    if not route.name:
        pytest.fail(
            f"URL pattern {route.route!r} has no name: give it one (path(..., name=...)) so "
            "pages and tests can reverse() it."
        )
    if route.positional:
        pytest.fail(
            f"URL pattern {route.route!r} ({route.name}) takes unnamed regex groups: use "
            "named arguments so it can be reversed with kwargs."
        )
    kwargs = {}
    by_url = SAMPLE_KWARGS_BY_URL.get(route.name, {})
    for kwarg in route.kwargs:
        sample = by_url.get(kwarg) or SAMPLE_KWARGS.get(kwarg)
        if sample is None:
            pytest.fail(
                f"URL pattern {route.route!r} ({route.name}) takes the argument {kwarg!r}, "
                f"and the access matrix has no sample value for it: add one to SAMPLE_KWARGS "
                f"(or SAMPLE_KWARGS_BY_URL[{route.name!r}]) in {__name__}."
            )
        kwargs[kwarg] = sample(samples)
    return reverse(route.name, kwargs=kwargs)


# ---------------------------------------------------------------------------------------
# Visitors and what they should see


def _signed_in_user(username: str, agency: Agency, roles: list[str]) -> User:
    user = UserFactory.create(username=username, agency=agency, roles=roles)
    add_totp_device(user)
    return user


def _location(response: "Response") -> str:
    return response.headers.get("Location", "")


def _is_redirect_to(response: "Response", url: str) -> bool:
    return response.status_code == 302 and urlsplit(_location(response)).path == url


def _assert_refused_as_api(response: "Response", route: Route) -> None:
    assert response.status_code == 401, (
        f"{route.label}: an API view must answer 401 to a caller without a key, "
        f"got {response.status_code}"
    )
    assert response.headers["WWW-Authenticate"].startswith("Bearer"), route.label
    assert "detail" in response.json(), route.label


def _assert_served(response: "Response", route: Route, who: str) -> None:
    assert response.status_code not in (401, 403), (
        f"{route.label}: {who} should pass the access check, got {response.status_code}"
    )
    assert not _is_redirect_to(response, reverse("portal:login")), (
        f"{route.label}: {who} was sent to sign in"
    )
    # Views of the sign-in step may themselves send a visitor on to the verification page
    # (enrolment does, for a user who already has an authenticator).
    if _require_rule(route).level > Level.SIGNIN_STEP:
        assert not _is_redirect_to(response, reverse("portal:mfa")), (
            f"{route.label}: {who} was sent to the verification step"
        )


def _require_rule(route: Route) -> AccessRule:
    rule = route.rule
    assert rule is not None, f"URL pattern {route.route!r} ({route.label}) has no access rule"
    return rule


# ---------------------------------------------------------------------------------------
# Every view has a rule


def test_url_walk_reaches_portal_admin_and_api_patterns() -> None:
    names = {route.name for route in ALL_ROUTES}
    assert {"portal:home", "admin:index", "api-client", "api-schema"} <= names


def test_every_url_pattern_has_an_access_rule() -> None:
    missing = [
        f"{route.route!r} ({route.label}, view {route.callback.__module__}."
        f"{route.callback.__qualname__})"
        for route in ALL_ROUTES
        if route.rule is None
    ]
    assert not missing, (
        "These URL patterns have no access rule (decorate the view with public, "
        "signin_step, password_change_step, signed_in or require_roles): " + "; ".join(missing)
    )


def test_only_listed_url_names_are_public() -> None:
    public = {route.label for route in MATRIX_ROUTES if _require_rule(route).level == Level.PUBLIC}
    unlisted = public - PUBLIC_URL_NAMES
    assert not unlisted, (
        f"{sorted(unlisted)} are open to anonymous visitors but not in PUBLIC_URL_NAMES: "
        "if that is intended, list them there"
    )


def test_public_url_names_all_exist() -> None:
    names = {route.name for route in MATRIX_ROUTES}
    assert names >= PUBLIC_URL_NAMES, sorted(PUBLIC_URL_NAMES - names)


@pytest.mark.parametrize("name", sorted(PUBLIC_URL_NAMES))
def test_listed_public_url_is_served_to_anonymous(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code not in (302, 401, 403), (
        f"{name} must be public, got {response.status_code}"
    )


def unruled_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("this page must never be served")


@signed_in
def ruled_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("served")


# A URLconf for the tests below: the project's URLs plus one view without a rule.
urlpatterns = [
    path("test-unruled/", unruled_view, name="test-unruled"),
    path("test-ruled/", ruled_view, name="test-ruled"),
    *cjis.urls.urlpatterns,
]


@pytest.mark.urls(__name__)
def test_view_without_rule_is_refused_even_to_an_administrator(
    signed_in: Callable[[User], Client], administrator: User
) -> None:
    response = signed_in(administrator).get(reverse("test-unruled"))
    assert response.status_code == 403
    assert b"no access rule" in response.content
    assert b"must never be served" not in response.content


@pytest.mark.urls(__name__)
def test_view_with_rule_is_served_where_unruled_one_is_not(
    signed_in: Callable[[User], Client], officer: User
) -> None:
    response = signed_in(officer).get(reverse("test-ruled"))
    assert response.status_code == 200
    assert response.content == b"served"


# ---------------------------------------------------------------------------------------
# The matrix


@pytest.mark.parametrize("route", MATRIX_ROUTES, ids=MATRIX_IDS)
def test_anonymous_visitor_gets_what_the_rule_says(
    client: Client, samples: Samples, route: Route
) -> None:
    rule = _require_rule(route)
    url = _url(route, samples)
    response = client.get(url)
    if route.name in PUBLIC_URL_NAMES:
        assert rule.level in (Level.PUBLIC, Level.API), route.label
        assert response.status_code not in (302, 401, 403), (
            f"{route.label} is public, got {response.status_code}"
        )
    elif rule.level == Level.PUBLIC:
        pytest.fail(f"{route.label} is public but not listed in PUBLIC_URL_NAMES")
    elif rule.level == Level.API:
        _assert_refused_as_api(response, route)
    else:
        assert response.status_code == 302, (
            f"{route.label}: anonymous visitors must be sent to sign in, got {response.status_code}"
        )
        location = urlsplit(_location(response))
        assert location.path == reverse("portal:login"), route.label
        assert parse_qs(location.query)["next"] == [url], route.label


@pytest.mark.parametrize("route", MATRIX_ROUTES, ids=MATRIX_IDS)
def test_password_only_visitor_gets_what_the_rule_says(
    client: Client, samples: Samples, officer: User, route: Route
) -> None:
    rule = _require_rule(route)
    url = _url(route, samples)
    response = sign_in(client, officer, verified=False).get(url)
    if route.name in PUBLIC_URL_NAMES:
        _assert_served(response, route, "a password-only visitor")
    elif rule.level == Level.API:
        _assert_refused_as_api(response, route)
    elif rule.level <= Level.SIGNIN_STEP:
        assert response.status_code != 403, route.label
        assert not _is_redirect_to(response, reverse("portal:login")), route.label
    else:
        assert _is_redirect_to(response, reverse("portal:mfa")), (
            f"{route.label} is above the sign-in step: a visitor who has not given a "
            f"verification code must be sent to {reverse('portal:mfa')}, got "
            f"{response.status_code} {_location(response)}"
        )


@pytest.mark.parametrize("route", MATRIX_ROUTES, ids=MATRIX_IDS)
def test_outsider_gets_what_the_rule_says(
    signed_in: Callable[[User], Client], samples: Samples, outsider: User, route: Route
) -> None:
    rule = _require_rule(route)
    url = _url(route, samples)
    response = signed_in(outsider).get(url)
    if route.name in PUBLIC_URL_NAMES:
        _assert_served(response, route, "a signed-in user")
    elif rule.level == Level.API:
        # A browser session is not an API credential.
        _assert_refused_as_api(response, route)
    elif rule.roles:
        assert response.status_code == 403, (
            f"{route.label} is for {rule.describe()}: an outsider without roles must get "
            f"403, got {response.status_code}"
        )
    else:
        _assert_served(response, route, "a signed-in user without roles")


@pytest.mark.parametrize(("route", "role"), list(_role_cases()))
def test_allowed_visitor_passes_the_access_check(
    client: Client, samples: Samples, agency: Agency, route: Route, role: str | None
) -> None:
    rule = _require_rule(route)
    url = _url(route, samples)
    if rule.level == Level.API:
        _, key = make_api_client(agency, list(ApiScope.values), name="Every scope")
        response = client.get(url, headers={"Authorization": f"Bearer {key}"})
        _assert_served(response, route, "an API client holding every scope")
        return
    user = _signed_in_user(f"allowed-{role or 'any'}", agency, [role] if role else [])
    response = sign_in(client, user).get(url)
    # A POST-only view answering 405 to GET has still let the visitor through.
    _assert_served(response, route, f"a user with role {role}" if role else "a signed-in user")


# ---------------------------------------------------------------------------------------
# The admin site


def test_anonymous_visitor_of_admin_is_sent_to_portal_sign_in(client: Client) -> None:
    response = client.get(reverse("admin:index"))
    assert _is_redirect_to(response, reverse("portal:login"))


def test_admin_login_page_sends_anonymous_visitor_to_portal_sign_in(client: Client) -> None:
    response = client.get(reverse("admin:login"))
    assert _is_redirect_to(response, reverse("portal:login"))


def test_verified_non_administrator_gets_403_on_admin(
    signed_in: Callable[[User], Client], officer: User
) -> None:
    response = signed_in(officer).get(reverse("admin:index"))
    assert response.status_code == 403


def test_verified_staff_without_administrator_role_gets_403_on_admin(
    signed_in: Callable[[User], Client], agency: Agency
) -> None:
    staff = _signed_in_user("staff-only", agency, [Role.HELP_DESK])
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    response = signed_in(staff).get(reverse("admin:index"))
    assert response.status_code == 403


def test_verified_administrator_reaches_admin(
    signed_in: Callable[[User], Client], administrator: User
) -> None:
    response = signed_in(administrator).get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"CJIS Portal administration" in response.content


def test_password_only_administrator_is_sent_to_verify_from_admin(
    client: Client, administrator: User
) -> None:
    response = sign_in(client, administrator, verified=False).get(reverse("admin:index"))
    assert _is_redirect_to(response, reverse("portal:mfa"))


# ---------------------------------------------------------------------------------------
# Denials are audited


def test_permission_denial_writes_access_denied_audit_row_naming_the_path(
    signed_in: Callable[[User], Client], outsider: User
) -> None:
    url = reverse("portal:audit_log")
    signed_in(outsider).get(url)
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == outsider
    assert event.outcome == "denied"
    assert event.details["path"] == url


def test_admin_denial_writes_access_denied_audit_row(
    signed_in: Callable[[User], Client], officer: User
) -> None:
    signed_in(officer).get(reverse("admin:index"))
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == officer
    assert event.details["path"] == reverse("admin:index")


# ---------------------------------------------------------------------------------------
# Certified agency networks


@pytest.fixture
def enforce_networks(settings: SettingsWrapper) -> None:
    settings.ENFORCE_AGENCY_NETWORKS = True


@pytest.fixture
def certified_officer(officer: User) -> User:
    agency = officer.agency
    assert agency is not None
    agency.network_allowlist = "10.0.0.0/8"
    agency.save(update_fields=["network_allowlist"])
    return officer


@pytest.mark.usefixtures("enforce_networks")
def test_user_outside_agency_networks_is_refused(
    signed_in: Callable[[User], Client], certified_officer: User
) -> None:
    response = signed_in(certified_officer).get(reverse("portal:home"), REMOTE_ADDR="192.168.1.5")
    assert response.status_code == 403
    assert b"192.168.1.5" in response.content


@pytest.mark.usefixtures("enforce_networks")
def test_refusal_outside_agency_networks_is_audited(
    signed_in: Callable[[User], Client], certified_officer: User
) -> None:
    signed_in(certified_officer).get(reverse("portal:home"), REMOTE_ADDR="192.168.1.5")
    event = AuditEvent.objects.get(action="access.network_denied")
    assert event.actor == certified_officer
    assert event.ip == "192.168.1.5"


@pytest.mark.usefixtures("enforce_networks")
def test_refusal_outside_agency_networks_signs_the_user_out(
    signed_in: Callable[[User], Client], certified_officer: User
) -> None:
    client = signed_in(certified_officer)
    client.get(reverse("portal:home"), REMOTE_ADDR="192.168.1.5")
    response = client.get(reverse("portal:home"), REMOTE_ADDR="10.1.2.3")
    assert _is_redirect_to(response, reverse("portal:login"))


@pytest.mark.usefixtures("enforce_networks")
def test_user_inside_agency_networks_is_served(
    signed_in: Callable[[User], Client], certified_officer: User
) -> None:
    response = signed_in(certified_officer).get(reverse("portal:home"), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200


@pytest.mark.usefixtures("enforce_networks")
def test_user_of_agency_without_networks_is_refused_when_enforced(
    signed_in: Callable[[User], Client], officer: User
) -> None:
    assert officer.agency is not None
    assert officer.agency.network_allowlist == ""
    response = signed_in(officer).get(reverse("portal:home"), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403


@pytest.mark.parametrize("address", ["192.168.1.5", "10.1.2.3"])
def test_every_address_is_served_when_enforcement_is_off(
    signed_in: Callable[[User], Client],
    certified_officer: User,
    settings: SettingsWrapper,
    address: str,
) -> None:
    settings.ENFORCE_AGENCY_NETWORKS = False
    response = signed_in(certified_officer).get(reverse("portal:home"), REMOTE_ADDR=address)
    assert response.status_code == 200


def test_user_of_agency_without_networks_is_served_when_enforcement_is_off(
    signed_in: Callable[[User], Client], officer: User, settings: SettingsWrapper
) -> None:
    settings.ENFORCE_AGENCY_NETWORKS = False
    response = signed_in(officer).get(reverse("portal:home"), REMOTE_ADDR="192.168.1.5")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("enforce_networks")
def test_api_client_outside_agency_networks_gets_403(client: Client) -> None:
    agency = AgencyFactory.create(ori="CT0001000", network_allowlist="10.0.0.0/8")
    _, key = make_api_client(agency, [ApiScope.SEARCH_READ])
    response = client.get(
        reverse("api-client"), headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR="192.168.1.5"
    )
    assert response.status_code == 403
    assert "network" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.usefixtures("enforce_networks")
def test_api_client_inside_agency_networks_is_served(client: Client) -> None:
    agency = AgencyFactory.create(ori="CT0001000", network_allowlist="10.0.0.0/8")
    _, key = make_api_client(agency, [ApiScope.SEARCH_READ])
    response = client.get(
        reverse("api-client"), headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_network_allowlist_names_the_line_of_a_bad_cidr() -> None:
    agency = Agency(
        ori="CT0001000",
        name="Test Police Department",
        kind="police",
        network_allowlist="10.0.0.0/8\n# HQ annex\n10.300.0.0/16",
    )
    with pytest.raises(ValidationError) as caught:
        agency.full_clean()
    messages = caught.value.message_dict["network_allowlist"]
    assert len(messages) == 1
    assert re.search(r"\bline 3\b", messages[0])
    assert "10.300.0.0/16" in messages[0]


@pytest.mark.django_db
def test_network_allowlist_accepts_cidrs_comments_and_blank_lines() -> None:
    agency = Agency(
        ori="CT0001000",
        name="Test Police Department",
        kind="police",
        network_allowlist="10.0.0.0/8\n\n# annex\n192.0.2.0/24  # lab\n2001:db8::/32",
    )
    agency.full_clean()
    assert agency.allows_address("192.0.2.7")
    assert agency.allows_address("2001:db8::1")
    assert not agency.allows_address("198.51.100.1")
