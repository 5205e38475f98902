"""The schema as migrations build it: the models and migrations agree, and the foreign
keys that lead a composite index have no second index of their own (each would cost an
entry per row written, for look-ups the composite index already serves)."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db

LED_BY_COMPOSITE = [
    ("ciss_delivery", "exchange_id", "delivery_once"),
    ("ciss_delivery", "recipient_id", "delivery_inbox"),
    ("ciss_exchange", "sender_agency_id", "exchange_idempotency"),
    ("portal_auditevent", "actor_id", "audit_actor_time"),
    ("portal_auditevent", "agency_id", "audit_agency_time"),
]


def test_models_and_migrations_agree() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(("table", "column", "composite"), LED_BY_COMPOSITE)
def test_a_foreign_key_is_indexed_once_by_the_composite_index(
    table: str, column: str, composite: str
) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    leading = sorted(
        name
        for name, constraint in constraints.items()
        if (constraint["index"] or constraint["unique"])
        and not constraint["primary_key"]
        and constraint["columns"][:1] == [column]
    )
    assert composite in leading
    assert [name for name in leading if constraints[name]["columns"] == [column]] == []
