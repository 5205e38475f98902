"""``POST /api/v1/persons/``: the master name index upserted by (source_system,
source_id), replays and out-of-order updates, and matching a new source record to a
known person (identifier first, then name and date of birth)."""

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from obts.matching import key_hashes, name_keys
from obts.models import (
    Flag,
    IdentifierKind,
    NameKey,
    Person,
    PersonIdentifier,
    PersonName,
    PersonSource,
    PossibleDuplicate,
)
from portal.models import Agency, AuditEvent
from portal.models.api_clients import ApiScope
from tests.factories import make_api_client
from tests.obts.factories import (
    SID,
    create_person,
    person_body,
    persons_url,
    post_json,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.MNI_WRITE])[1]


def _rows() -> tuple[int, int, int, int, int]:
    return (
        Person.objects.count(),
        PersonName.objects.count(),
        NameKey.objects.count(),
        PersonIdentifier.objects.count(),
        AuditEvent.objects.count(),
    )


# ---------------------------------------------------------------------------------------
# Create, update, replay, stale


def test_new_person_is_created_with_201_and_its_id(client: Client, key: str) -> None:
    response = post_json(client, persons_url(), person_body(), key)
    assert response.status_code == 201
    body = response.json()
    person = Person.objects.get()
    assert body["id"] == str(person.public_id)
    assert (body["result"], body["applied"]) == ("created", True)
    assert (body["first_name"], body["last_name"], body["dob"]) == (
        "Michaela",
        "Neumann",
        "1985-11-11",
    )
    assert body["sid"] == SID
    assert body["aliases"][0]["first_name"] == "Mickey"
    assert body["addresses"][0]["line1"] == "8 Stanley St"
    assert body["match"] == {"rule": "none"}


def test_only_source_and_last_name_are_required(client: Client, key: str) -> None:
    body = {"source_system": "DPS-MNI", "source_id": "A-1", "last_name": "Neumann"}
    response = post_json(client, persons_url(), body, key)
    assert response.status_code == 201
    assert response.json()["dob"] is None


def test_missing_required_fields_are_field_errors(client: Client, key: str) -> None:
    response = post_json(client, persons_url(), {"first_name": "Ann"}, key)
    assert response.status_code == 400
    assert set(response.json()) == {"source_system", "source_id", "last_name"}


def test_primary_name_and_aliases_are_stored_each_with_its_dob(client: Client, key: str) -> None:
    aliases = [{"first_name": "Mickey", "last_name": "Neumann", "dob": "1985-11-12"}]
    post_json(client, persons_url(), person_body(aliases=aliases), key)
    names = {(n.first_name, n.is_primary, str(n.dob)) for n in PersonName.objects.all()}
    assert names == {("Michaela", True, "1985-11-11"), ("Mickey", False, "1985-11-12")}


def test_every_name_stores_its_matching_keys(client: Client, key: str) -> None:
    post_json(client, persons_url(), person_body(), key)
    for name in PersonName.objects.all():
        stored = set(name.keys.values_list("key", flat=True))
        expected = name_keys(name.first_name, name.middle_name, name.last_name, name.dob)
        assert sorted(stored) == key_hashes(expected)
        assert stored


def test_identifiers_are_stored_in_their_compared_form(client: Client, key: str) -> None:
    body = person_body(
        sid="ct 123-4567", dl_number="123-456-789", dl_state="ct", doc_number="412345"
    )
    post_json(client, persons_url(), body, key)
    stored = set(PersonIdentifier.objects.values_list("kind", "value", "state"))
    assert stored == {
        (IdentifierKind.SID, "CT1234567", ""),
        (IdentifierKind.DRIVERS_LICENSE, "123456789", "CT"),
        (IdentifierKind.DOC_NUMBER, "412345", ""),
    }


def test_newer_update_replaces_the_source_names_and_data(client: Client, key: str) -> None:
    post_json(client, persons_url(), person_body(as_of="2026-01-01T00:00:00Z"), key)
    update = person_body(
        as_of="2026-01-02T00:00:00Z",
        last_name="Neumann-Lee",
        aliases=[],
        caution="Armed",
        height_in=66,
    )
    response = post_json(client, persons_url(), update, key)
    assert response.status_code == 200
    body = response.json()
    assert (body["result"], body["last_name"], body["aliases"]) == ("updated", "Neumann-Lee", [])
    person = Person.objects.get()
    assert (person.caution, person.height_in) == ("Armed", 66)
    assert list(PersonName.objects.values_list("last_name", "is_primary")) == [
        ("Neumann-Lee", True)
    ]


def test_replayed_person_changes_nothing_and_writes_no_audit_row(client: Client, key: str) -> None:
    post_json(client, persons_url(), person_body(), key)
    before = _rows()
    response = post_json(client, persons_url(), person_body(), key)
    assert response.status_code == 200
    assert (response.json()["result"], response.json()["applied"]) == ("unchanged", False)
    assert _rows() == before


def test_older_update_is_not_applied_and_says_why(client: Client, key: str) -> None:
    post_json(client, persons_url(), person_body(as_of="2026-01-02T00:00:00Z"), key)
    older = person_body(as_of="2026-01-01T00:00:00Z", last_name="Older")
    response = post_json(client, persons_url(), older, key)
    body = response.json()
    assert response.status_code == 200
    assert (body["result"], body["applied"]) == ("stale", False)
    assert "older" in body["reason"]
    assert body["last_name"] == "Neumann"
    assert not PersonName.objects.filter(last_name="Older").exists()


def test_applied_person_writes_one_audit_row(client: Client, key: str, agency: Agency) -> None:
    post_json(client, persons_url(), person_body(), key)
    event = AuditEvent.objects.get(action="obts.person.upserted")
    assert event.object_id == str(Person.objects.get().public_id)
    assert event.agency == agency
    assert event.details["source_id"] == "A-1001"
    assert event.details["result"] == "created"


def test_caution_sets_the_officer_caution_flag(client: Client, key: str) -> None:
    post_json(client, persons_url(), person_body(caution="Assaulted an officer 2019"), key)
    assert Person.objects.get().flags == [Flag.OFFICER_CAUTION]


@pytest.mark.parametrize(
    ("field", "value"),
    [("dob", "2999-01-01"), ("dob", "1985-13-01"), ("sex", "X"), ("height_in", 400)],
)
def test_bad_values_are_field_errors(client: Client, key: str, field: str, value: object) -> None:
    response = post_json(client, persons_url(), person_body(**{field: value}), key)
    assert response.status_code == 400
    assert field in response.json()


def test_sex_error_lists_the_allowed_values(client: Client, key: str) -> None:
    response = post_json(client, persons_url(), person_body(sex="X"), key)
    assert "M, F, U" in response.json()["sex"][0]


def test_alias_without_last_name_is_an_error_naming_the_alias(client: Client, key: str) -> None:
    response = post_json(client, persons_url(), person_body(aliases=[{"first_name": "Mo"}]), key)
    assert response.status_code == 400
    assert "last_name" in response.json()["aliases"]["0"]


# ---------------------------------------------------------------------------------------
# Matching a new source record


def test_same_sid_from_another_source_links_to_the_person(client: Client, key: str) -> None:
    first = create_person()
    other = person_body(
        source_system="DOC", source_id="412345", first_name="Mike", last_name="Newman", dob=None
    )
    response = post_json(client, persons_url(), other, key)
    assert response.status_code == 201
    assert response.json()["id"] == first
    assert response.json()["match"]["rule"] == "sid"
    assert Person.objects.count() == 1
    assert PersonSource.objects.count() == 2


def test_linked_source_adds_its_names_as_aliases(client: Client, key: str) -> None:
    create_person()
    other = person_body(source_system="DOC", source_id="412345", first_name="Mike")
    post_json(client, persons_url(), other, key)
    primary = PersonName.objects.filter(is_primary=True)
    assert list(primary.values_list("first_name", flat=True)) == ["Michaela"]


def test_same_drivers_licence_and_state_links(client: Client, key: str) -> None:
    first = create_person(sid="", dl_number="123456789", dl_state="CT")
    other = person_body(
        source_system="DMV",
        source_id="D-1",
        sid="",
        first_name="Zed",
        last_name="Quill",
        dl_number="123-456-789",
        dl_state="CT",
    )
    response = post_json(client, persons_url(), other, key)
    assert (response.json()["id"], response.json()["match"]["rule"]) == (first, "dl")


def test_same_licence_number_of_another_state_does_not_link(client: Client, key: str) -> None:
    create_person(sid="", dl_number="123456789", dl_state="CT")
    other = person_body(
        source_system="DMV",
        source_id="D-1",
        sid="",
        first_name="Zed",
        last_name="Quill",
        dob="1950-01-01",
        aliases=[],
        dl_number="123456789",
        dl_state="NY",
    )
    post_json(client, persons_url(), other, key)
    assert Person.objects.count() == 2


def test_name_and_exact_dob_link_confidently(client: Client, key: str) -> None:
    first = create_person()
    other = person_body(source_system="COURT", source_id="C-9", sid="", first_name="Micaela")
    response = post_json(client, persons_url(), other, key)
    body = response.json()
    assert body["id"] == first
    assert body["match"]["rule"] == "name_dob"
    assert body["match"]["score"] >= 0.92
    assert body["match"]["reasons"]


def test_near_miss_dob_creates_a_new_person_and_a_possible_duplicate(
    client: Client, key: str
) -> None:
    first = create_person()
    other = person_body(
        source_system="COURT", source_id="C-9", sid="", dob="1985-11-12", aliases=[]
    )
    response = post_json(client, persons_url(), other, key)
    body = response.json()
    assert body["id"] != first
    duplicate = PossibleDuplicate.objects.get()
    assert str(duplicate.person.public_id) == body["id"]
    assert str(duplicate.candidate.public_id) == first
    assert 0.70 <= duplicate.score < 0.92
    assert duplicate.reasons
    assert body["possible_duplicates"] == [{"candidate": first, "score": duplicate.score}]


def test_different_person_creates_a_new_person_without_review(client: Client, key: str) -> None:
    create_person()
    other = person_body(
        source_system="COURT",
        source_id="C-9",
        sid="",
        first_name="Zed",
        last_name="Quill",
        dob="1950-01-01",
        aliases=[],
    )
    post_json(client, persons_url(), other, key)
    assert Person.objects.count() == 2
    assert not PossibleDuplicate.objects.exists()


def test_update_of_a_source_is_never_rematched(client: Client, key: str) -> None:
    first = create_person()
    second = create_person(
        source_id="A-2", sid="CT7654321", first_name="Zed", last_name="Quill", aliases=[]
    )
    update = person_body(source_id="A-2", sid=SID)
    response = post_json(client, persons_url(), update, key)
    assert response.json()["id"] == second != first


def _source_reads(queries: CaptureQueriesContext) -> int:
    """The reads of stored sources with their persons (locking them on PostgreSQL)."""
    return sum(
        'FROM "obts_personsource" INNER JOIN "obts_person"' in query["sql"]
        for query in queries.captured_queries
    )


def test_a_new_source_skips_the_read_of_stored_sources(client: Client, key: str) -> None:
    with CaptureQueriesContext(connection) as new:
        assert post_json(client, persons_url(), person_body(), key).status_code == 201
    assert _source_reads(new) == 0

    with CaptureQueriesContext(connection) as replay:
        response = post_json(client, persons_url(), person_body(), key)
    assert response.json()["result"] == "unchanged"
    assert _source_reads(replay) == 1


# ---------------------------------------------------------------------------------------
# Several sources of one person


def test_empty_field_of_another_source_keeps_the_value(client: Client, key: str) -> None:
    create_person(caution="Armed and dangerous", race="W")
    other = person_body(source_system="DMV", source_id="D-1", caution="", race="")
    post_json(client, persons_url(), other, key)
    person = Person.objects.get()
    assert (person.caution, person.race) == ("Armed and dangerous", "W")


def test_sole_source_can_clear_its_caution(client: Client, key: str) -> None:
    create_person(caution="Armed and dangerous")
    update = person_body(caution="")
    post_json(client, persons_url(), update, key)
    person = Person.objects.get()
    assert (person.caution, person.flags) == ("", [])


# ---------------------------------------------------------------------------------------
# Batches and the request


def test_person_batch_keeps_the_good_records_around_a_bad_one(client: Client, key: str) -> None:
    batch = [
        person_body(source_id="P-1", sid="CT0000001", first_name="Ann", aliases=[]),
        person_body(source_id="P-2", last_name=""),
        person_body(
            source_id="P-3", sid="CT0000003", first_name="Bo", last_name="Quill", dob="1950-01-01"
        ),
    ]
    response = post_json(client, persons_url(), batch, key)
    results = response.json()
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert "last_name" in results[1]["errors"]
    assert set(PersonSource.objects.values_list("source_id", flat=True)) == {"P-1", "P-3"}


def test_batch_naming_one_source_twice_links_the_second_to_the_first(
    client: Client, key: str
) -> None:
    batch = [
        person_body(as_of="2026-01-01T00:00:00Z"),
        person_body(as_of="2026-01-02T00:00:00Z", caution="Armed"),
    ]
    response = post_json(client, persons_url(), batch, key)
    assert [r["status"] for r in response.json()] == ["created", "updated"]
    assert Person.objects.get().caution == "Armed"


def stranger(number: int) -> dict[str, Any]:
    """A new person of a batch, unlike every other (its own names, date and SID)."""
    given = ["Abel", "Bruna", "Cyrus", "Delia", "Emmet", "Fenna", "Gideon", "Hester"]
    family = ["Quarles", "Ruddock", "Stubbs", "Tolliver", "Upham", "Vickery", "Wyeth"]
    return person_body(
        source_id=f"N-{number}",
        sid=f"CT{7000000 + number}",
        first_name=given[number % len(given)],
        last_name=family[number % len(family)] + "ington" * (number // len(family)),
        dob=f"19{40 + number % 50}-0{1 + number % 9}-1{number % 10}",
        aliases=[],
    )


def test_new_persons_of_a_batch_are_written_together(
    client: Client, key: str, django_assert_max_num_queries: Any
) -> None:
    batch = [stranger(n) for n in range(40)]
    # The key, the stored sources, the identifier holders and name keys of all forty,
    # one statement per table for all forty, the status refresh and the audit row.
    with django_assert_max_num_queries(30):
        response = post_json(client, persons_url(), batch, key)
    assert [r["status"] for r in response.json()] == ["created"] * 40
    assert Person.objects.count() == 40
    assert NameKey.objects.count() == sum(
        len(
            key_hashes(name_keys(b["first_name"], "", b["last_name"], date.fromisoformat(b["dob"])))
        )
        for b in batch
    )
    assert PersonIdentifier.objects.count() == 40


def test_a_batch_reads_its_candidates_once_not_per_record(
    client: Client, key: str, django_assert_max_num_queries: Any
) -> None:
    known = [stranger(n) for n in range(30)]
    for body in known:
        create_person(**body)
    # The same thirty people from another system, without their SIDs: each is found by
    # name and date of birth among candidates read for the whole batch at once.
    batch = [
        {**body, "source_system": "DOC", "source_id": f"D-{n}", "sid": ""}
        for n, body in enumerate(known)
    ]
    ids = [
        str(Person.objects.get(sources__source_id=body["source_id"]).public_id) for body in known
    ]
    with django_assert_max_num_queries(30):
        results = post_json(client, persons_url(), batch, key).json()
    assert [r["status"] for r in results] == ["created"] * 30
    assert [r["id"] for r in results] == ids
    assert Person.objects.count() == 30


def test_what_a_batch_writes_changes_how_its_later_records_are_scored(
    client: Client, key: str
) -> None:
    create_person(source_id="P-1", fbi_number="")
    batch = [
        # Known by its SID: the person now also carries this FBI number...
        person_body(source_system="DOC", source_id="D-1", fbi_number="111111AA1", aliases=[]),
        # ...so the same name and date of birth with another FBI number is somebody else.
        person_body(
            source_system="JUD", source_id="J-1", sid="", fbi_number="222222BB2", aliases=[]
        ),
    ]
    known = Person.objects.get()
    first, second = post_json(client, persons_url(), batch, key).json()
    assert first["id"] == str(known.public_id)
    assert second["id"] != first["id"]
    (review,) = PossibleDuplicate.objects.all()
    assert (str(review.person.public_id), review.candidate) == (second["id"], known)


def test_a_batch_too_common_to_read_at_once_is_matched_record_by_record(
    client: Client, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from obts.services import matching

    known = [stranger(n) for n in range(3)]
    for body in known:
        create_person(**body)
    monkeypatch.setattr(matching, "MAX_BATCH_KEY_ROWS", 1)
    batch = [
        {**body, "source_system": "DOC", "source_id": f"D-{n}", "sid": ""}
        for n, body in enumerate(known)
    ]
    ids = [
        str(Person.objects.get(sources__source_id=body["source_id"]).public_id) for body in known
    ]
    results = post_json(client, persons_url(), batch, key).json()
    assert [r["id"] for r in results] == ids
    assert Person.objects.count() == 3


def test_a_record_is_matched_against_the_new_persons_before_it_in_its_batch(
    client: Client, key: str
) -> None:
    batch = [
        stranger(1),
        stranger(2),
        # The same person as the first, from another system: by SID, then by name and
        # date of birth with no identifier at all.
        {**stranger(1), "source_system": "DOC", "source_id": "D-1"},
        {**stranger(1), "source_system": "JUD", "source_id": "J-1", "sid": ""},
    ]
    results = post_json(client, persons_url(), batch, key).json()
    assert [r["status"] for r in results] == ["created"] * 4
    assert results[2]["id"] == results[0]["id"]
    assert results[3]["id"] == results[0]["id"]
    assert results[1]["id"] != results[0]["id"]
    assert Person.objects.count() == 2
    assert PersonSource.objects.filter(person__public_id=results[0]["id"]).count() == 3


def test_a_lot_the_database_refuses_is_written_one_record_at_a_time(
    client: Client, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from obts.services import persons

    write_new = persons._write_new
    lots: list[int] = []

    def refuse_the_first_lot(waiting: list[Any], now: Any) -> Any:
        lots.append(len(waiting))
        if len(lots) == 1:
            raise IntegrityError("another request wrote one of these sources meanwhile")
        return write_new(waiting, now)

    monkeypatch.setattr(persons, "_write_new", refuse_the_first_lot)
    batch = [stranger(n) for n in range(3)]
    results = post_json(client, persons_url(), batch, key).json()
    assert lots == [3, 1, 1, 1]  # the lot, then each record on its own
    assert [r["status"] for r in results] == ["created"] * 3
    assert Person.objects.count() == 3
    assert set(PersonSource.objects.values_list("source_id", flat=True)) == {"N-0", "N-1", "N-2"}


def test_key_without_mni_scope_gets_403(client: Client, agency: Agency) -> None:
    _, key = make_api_client(agency, [ApiScope.FEEDS_WRITE])
    response = post_json(client, persons_url(), person_body(), key)
    assert response.status_code == 403


def test_persons_without_key_gets_401(client: Client) -> None:
    response = client.post(persons_url(), person_body(), content_type="application/json")
    assert response.status_code == 401


def test_persons_batch_over_the_limit_gets_413(client: Client, key: str) -> None:
    batch = [person_body(source_id=f"P-{n}") for n in range(1001)]
    assert post_json(client, persons_url(), batch, key).status_code == 413
