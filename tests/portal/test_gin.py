"""The search indexes' pending lists are kept small on PostgreSQL (``portal.gin``)."""

import pytest
from django.db import connection

from portal.gin import PENDING_LIST_KB

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN is PostgreSQL's"),
]

SEARCH_INDEXES = {
    "vehicle_plate_positions",
    "vehicle_plate_trigram",
    "location_key_trigram",
    "person_name_trigram",
    "address_location_trigram",
}


def test_every_search_index_keeps_a_small_pending_list() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin'"
        )
        options = dict(cursor.fetchall())
    assert set(options) >= SEARCH_INDEXES
    for index in SEARCH_INDEXES:
        assert f"gin_pending_list_limit={PENDING_LIST_KB}" in (options[index] or []), index
