"""Property-based requests generated from the OpenAPI schema: whatever an integrator
sends, valid or not, the API answers without a server error and as documented."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from cjis.wsgi import application
from portal.models import Agency, ApiScope
from tests.factories import make_api_client

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """Calling the WSGI app in-process fires request_started/finished, which would close
    the test's own database connection in the middle of its transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(agency: Agency) -> str:
    _, key = make_api_client(agency, list(ApiScope.values))
    return key


# The key is the same for every generated request, which is what the health check
# warns about: here it is intended.
@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@pytest.mark.django_db
def test_api_never_answers_with_a_server_error(
    case: schemathesis.Case[schemathesis.APIOperation[Any, Any, Any, Any]], api_key: str
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"}, checks=[not_a_server_error]
    )
