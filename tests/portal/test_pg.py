"""Statements prepared once per PostgreSQL session, and integer arrays sent as one literal
(``portal.pg``)."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper

from portal import pg

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def test_an_array_literal_keeps_every_value_and_sign() -> None:
    assert pg.bigint_array([3, -9_223_372_036_854_775_808, 9_223_372_036_854_775_807]) == (
        "{3,-9223372036854775808,9223372036854775807}"
    )
    assert pg.bigint_array([]) == "{}"


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split(" ", 1)[0] for query in context.captured_queries]


def _prepared(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [name])
        row = cursor.fetchone()
    return bool(row and row[0])


def _run(name: str, values: list[int]) -> list[int]:
    with connection.cursor() as cursor:
        pg.execute_prepared(
            cursor,
            name,
            ["bigint[]", "integer"],
            "SELECT v FROM unnest($1) AS v WHERE v > 0 ORDER BY v LIMIT $2",
            [pg.bigint_array(values), 2],
        )
        return [row[0] for row in cursor.fetchall()]


@postgresql
@pytest.mark.django_db
def test_a_statement_is_prepared_once_per_session() -> None:
    name = f"test_{uuid.uuid4().hex}"
    assert not _prepared(name)
    with CaptureQueriesContext(connection) as first:
        assert _run(name, [5, -1, 3, 9]) == [3, 5]
    assert _prepared(name)
    with CaptureQueriesContext(connection) as second:
        assert _run(name, [7, 1]) == [1, 7]
    # Preparing is session set-up, not one of the request's queries.
    assert _statements(first) == _statements(second) == ["EXECUTE"]


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again() -> None:
    name = f"test_{uuid.uuid4().hex}"
    assert _run(name, [2, 1]) == [1, 2]
    connection.close()
    connection.ensure_connection()
    assert not _prepared(name)
    assert _run(name, [4]) == [4]
    assert _prepared(name)


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_statement_prepared_in_a_rolled_back_transaction_stays_usable() -> None:
    name = f"test_{uuid.uuid4().hex}"
    transaction.set_autocommit(False)
    try:
        assert _run(name, [1]) == [1]
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    assert _run(name, [6, 8, 10]) == [6, 8]


@postgresql
@pytest.mark.django_db
def test_turned_off_the_statement_is_sent_as_it_is(settings: SettingsWrapper) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    name = f"test_{uuid.uuid4().hex}"
    with CaptureQueriesContext(connection) as plain:
        assert _run(name, [5, -1, 3, 9]) == [3, 5]
    assert _statements(plain) == ["SELECT"]
    assert not _prepared(name)


@postgresql
@pytest.mark.django_db
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "plain"])
def test_a_placeholder_may_repeat_and_come_in_any_order(
    settings: SettingsWrapper, prepared: bool
) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    with connection.cursor() as cursor:
        pg.execute_prepared(
            cursor,
            f"test_{uuid.uuid4().hex}",
            ["integer", "text"],
            "SELECT $2 || ':' || $1 || ':' || ($1 + 1) || ':100%'",
            [41, "n"],
        )
        assert cursor.fetchone() == ("n:41:42:100%",)


@postgresql
@pytest.mark.django_db
def test_an_unseen_array_finds_the_same_rows_without_being_planned_element_by_element() -> None:
    values = list(range(-5, 5000))
    sql = "SELECT v FROM generate_series(1, 10) AS v WHERE v = ANY({}) ORDER BY v"
    with connection.cursor() as cursor:
        cursor.execute(sql.format(pg.unseen_bigint_array()), [pg.bigint_array(values)])
        assert [row[0] for row in cursor.fetchall()] == list(range(1, 11))
        cursor.execute("EXPLAIN " + sql.format(pg.unseen_bigint_array()), [pg.bigint_array(values)])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The filter compares with the sub-select's result, not with 5,005 constants.
    assert "InitPlan" in plan
    assert "4999" not in plan
