"""``GET /api/v1/search/persons``: each promise of CONTRACT §3 "Search", the parameters and
their errors, flags, merged persons, the audit row, the schema and the query count."""

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from ciss.search import PERSONS_SEARCHED
from obts.matching import CONFIDENT, POSSIBLE, Query, key_hashes, name_keys
from obts.merging import person_merge
from obts.models import (
    CaseStatus,
    IdentifierKind,
    NameKey,
    Person,
    PersonIdentifier,
    PersonName,
    WarrantStatus,
)
from obts.services.matching import NameQuery, search_floor, search_persons
from obts.status import person_recompute
from portal.models import Agency, AuditEvent
from portal.models.api_clients import ApiScope
from portal.roles import Role
from tests.factories import UserFactory, make_api_client
from tests.obts.factories_records import CaseFactory, ProtectiveOrderFactory, WarrantFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

DOB = date(1985, 11, 11)
RESULT_KEYS = {
    "id",
    "score",
    "first_name",
    "middle_name",
    "last_name",
    "dob",
    "sex",
    "matched_name",
    "flags",
}

Name = tuple[str, str, date | None]  # first name, last name, date of birth


def indexed_person(
    first: str,
    last: str,
    dob: date | None = DOB,
    *,
    sex: str = "M",
    middle: str = "",
    aliases: Sequence[Name] = (),
    identifiers: Sequence[tuple[str, str]] = (),
) -> Person:
    """A person whose names carry their matching keys, as intake stores them."""
    person = Person.objects.create(sex=sex)
    rows = [(first, middle, last, dob, True)] + [(f, "", la, d, False) for f, la, d in aliases]
    for given, middle_name, surname, born, primary in rows:
        name = PersonName.objects.create(
            person=person,
            is_primary=primary,
            first_name=given,
            middle_name=middle_name,
            last_name=surname,
            dob=born,
        )
        keys = key_hashes(name_keys(given, middle_name, surname, born))
        NameKey.objects.bulk_create([NameKey(name=name, key=key) for key in keys])
    for kind, value in identifiers:
        PersonIdentifier.objects.create(person=person, kind=kind, value=value, state="CT")
    return person


@pytest.fixture
def key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.SEARCH_READ])[1]


def url() -> str:
    return reverse("api-search-persons")


def search(client: Client, key: str, **params: str) -> "Response":
    return client.get(url(), params, headers={"Authorization": f"Bearer {key}"})


def results(client: Client, key: str, **params: str) -> list[dict[str, Any]]:
    response = search(client, key, **params)
    assert response.status_code == 200, response.content
    found: list[dict[str, Any]] = response.json()["results"]
    return found


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in found]


def top(client: Client, key: str, **params: str) -> str:
    found = results(client, key, **params)
    assert found, f"nothing found for {params}"
    first: str = found[0]["id"]
    return first


@pytest.fixture
def michaela() -> Person:
    """The CONTRACT's example person, with her alias, among people with similar names."""
    person = indexed_person("Michaela", "Neumann", sex="F", aliases=[("Mickey", "Neumann", DOB)])
    indexed_person("Michael", "Newman", date(1979, 3, 4))
    indexed_person("Martha", "Neumann", date(1950, 6, 7), sex="F")
    indexed_person("Daniel", "Andrade", date(1985, 11, 11))
    return person


# ---------------------------------------------------------------------------------------
# Access


def test_path_is_the_contracts() -> None:
    assert url() == "/api/v1/search/persons"


def test_request_without_key_is_401_json(client: Client) -> None:
    response = client.get(url(), {"name": "Neumann"})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_key_without_search_scope_is_403(client: Client, agency: Agency) -> None:
    _, records_key = make_api_client(agency, [ApiScope.RECORDS_READ], name="Records only")
    response = search(client, records_key, name="Neumann")
    assert response.status_code == 403
    assert "search:read" in response.json()["detail"]


def test_post_is_not_allowed(client: Client, key: str) -> None:
    response = client.post(url(), {}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# Shape


def test_answer_has_count_and_results_with_the_contracts_fields(
    client: Client, key: str, michaela: Person
) -> None:
    response = search(client, key, name="Michaela Neumann", dob="1985-11-11")
    body = response.json()
    assert set(body) == {"count", "results"}
    assert body["count"] == len(body["results"]) >= 1
    first = body["results"][0]
    assert set(first) >= RESULT_KEYS | {"reasons", "status"}
    assert first["id"] == str(michaela.public_id)
    assert (first["first_name"], first["last_name"], first["dob"], first["sex"]) == (
        "Michaela",
        "Neumann",
        "1985-11-11",
        "F",
    )


def test_results_are_best_first_with_scores_between_0_and_1(
    client: Client, key: str, michaela: Person
) -> None:
    scores = [item["score"] for item in results(client, key, name="Michaela Neumann")]
    assert len(scores) >= 2
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= value <= 1 for value in scores)


def test_an_alias_shows_as_the_matched_name_with_the_primary_name_beside_it(
    client: Client, key: str, michaela: Person
) -> None:
    (first, *_) = results(client, key, name="Mickey Neumann", dob="1985-11-11")
    assert first["id"] == str(michaela.public_id)
    assert first["matched_name"] == "Mickey Neumann"
    assert first["first_name"] == "Michaela"
    assert "matched alias Mickey Neumann" in first["reasons"]


def test_exact_name_and_date_of_birth_scores_at_least_confident(
    client: Client, key: str, michaela: Person
) -> None:
    (first, *_) = results(client, key, first_name="Michaela", last_name="Neumann", dob="1985-11-11")
    assert first["score"] >= CONFIDENT
    assert first["matched_name"] == "Michaela Neumann"


# ---------------------------------------------------------------------------------------
# What still finds the person (CONTRACT: misspellings, phonetic spellings, nicknames,
# swapped names, compound surnames, accents, a wrong digit in the date of birth)


def test_a_misspelled_surname_finds_the_person(client: Client, key: str, michaela: Person) -> None:
    assert top(client, key, name="Michaela Nuemann", dob="1985-11-11") == str(michaela.public_id)


def test_a_phonetic_spelling_finds_the_person(client: Client, key: str) -> None:
    person = indexed_person("Geoffrey", "Philips", date(1990, 4, 5))
    indexed_person("Jennifer", "Phelps", date(1990, 4, 5))
    assert top(client, key, first_name="Jeffrey", last_name="Fillips") == str(person.public_id)


def test_a_nickname_finds_the_formal_name(client: Client, key: str) -> None:
    william = indexed_person("William", "Smith", date(1970, 1, 2))
    indexed_person("Walter", "Smith", date(1970, 1, 2))
    (first, *_) = results(client, key, first_name="Bill", last_name="Smith")
    assert first["id"] == str(william.public_id)
    assert any("Bill" in reason and "William" in reason for reason in first["reasons"])


def test_swapped_first_and_last_names_find_the_person(
    client: Client, key: str, michaela: Person
) -> None:
    (first, *_) = results(client, key, first_name="Neumann", last_name="Michaela")
    assert first["id"] == str(michaela.public_id)
    assert "first and last name swapped" in first["reasons"]


@pytest.mark.parametrize("written", ["Maria Lopez", "Maria Garcia Lopez", "Maria Garcia"])
def test_a_hyphenated_surname_is_found_by_its_parts(client: Client, key: str, written: str) -> None:
    person = indexed_person("María", "García-López", date(1992, 8, 9), sex="F")
    indexed_person("Mario", "Lopes", date(1960, 1, 1))
    assert top(client, key, name=written) == str(person.public_id)


def test_a_compound_surname_with_particles_is_found_without_them(client: Client, key: str) -> None:
    person = indexed_person("Juan", "de la Cruz", date(1988, 2, 3))
    assert top(client, key, name="Juan Cruz", dob="1988-02-03") == str(person.public_id)


def test_a_name_without_its_accents_finds_the_accented_name(client: Client, key: str) -> None:
    person = indexed_person("José", "Núñez", date(1975, 5, 6))
    assert top(client, key, name="Jose Nunez", dob="1975-05-06") == str(person.public_id)


def test_an_accented_query_finds_the_plain_name(client: Client, key: str) -> None:
    person = indexed_person("Jose", "Nunez", date(1975, 5, 6))
    assert top(client, key, name="José Núñez") == str(person.public_id)


@pytest.mark.parametrize("dob", ["1985-11-17", "1985-11-12", "1958-11-11", "1985-11-01"])
def test_a_wrong_digit_in_the_date_of_birth_still_finds_the_person(
    client: Client, key: str, michaela: Person, dob: str
) -> None:
    (first, *_) = results(client, key, first_name="Michaela", last_name="Neumann", dob=dob)
    assert first["id"] == str(michaela.public_id)
    assert first["score"] >= POSSIBLE


def test_last_comma_first_free_text_finds_the_person(
    client: Client, key: str, michaela: Person
) -> None:
    assert top(client, key, name="Neumann, Michaela") == str(michaela.public_id)


def test_free_text_with_a_middle_name_finds_the_person(client: Client, key: str) -> None:
    person = indexed_person("Robert", "Kowalski", date(1969, 7, 8), middle="James")
    assert top(client, key, name="Robert James Kowalski") == str(person.public_id)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is a PostgreSQL index")
def test_a_name_misspelled_beyond_the_keys_is_found_by_trigram_on_postgresql(
    client: Client, key: str
) -> None:
    person = indexed_person("Jonathan", "Wojciechowski", date(1980, 1, 2))
    assert top(client, key, name="Jonathon Wojciehowsky") == str(person.public_id)


def test_a_first_name_and_date_of_birth_alone_find_the_person(
    client: Client, key: str, michaela: Person
) -> None:
    assert top(client, key, first_name="Michaela", dob="1985-11-11") == str(michaela.public_id)


def test_a_wrong_surname_with_the_given_name_and_date_of_birth_still_finds_the_person(
    client: Client, key: str
) -> None:
    """A surname with its first letter wrong (or married into, or mistyped twice) shares
    no key with the stored one; the given name and exact date still find the person,
    ranked below a full match."""
    lam = indexed_person("Philip", "Lam", date(1960, 5, 7))
    tam = indexed_person("Philip", "Tam", date(1960, 5, 7))
    assert ids(results(client, key, first_name="Philip", last_name="Tam", dob="1960-05-07")) == [
        str(tam.public_id),
        str(lam.public_id),
    ]


def test_a_surname_mistyped_twice_is_shown_with_the_reason(client: Client, key: str) -> None:
    potts = indexed_person("David", "Potts", date(1997, 1, 13))
    (hit,) = search_persons(names=[NameQuery("Dave", "", "Pzfts", "", date(1997, 1, 13))])
    assert hit.person_id == potts.pk
    assert "surname differs (Pzfts vs Potts)" in hit.reasons
    assert "same date of birth" in hit.reasons


def test_a_wrong_surname_is_not_enough_without_the_exact_date_or_given_name(
    client: Client, key: str
) -> None:
    indexed_person("Philip", "Lam", date(1960, 5, 8))  # a day off
    indexed_person("Daniel", "Kam", date(1960, 5, 7))  # another given name
    assert results(client, key, first_name="Philip", last_name="Tam", dob="1960-05-07") == []


def test_a_surname_alone_finds_every_holder_of_it(
    client: Client, key: str, michaela: Person
) -> None:
    found = results(client, key, last_name="Neumann")
    names = {(item["first_name"], item["last_name"]) for item in found}
    assert {("Michaela", "Neumann"), ("Martha", "Neumann")} <= names


def test_a_different_surname_sharing_only_letters_is_not_shown(
    client: Client, key: str, michaela: Person
) -> None:
    found = results(client, key, last_name="Anderson")
    assert all(item["last_name"] != "Andrade" for item in found)


def test_a_single_word_is_searched_as_a_surname_and_as_a_first_name(
    client: Client, key: str, michaela: Person
) -> None:
    assert str(michaela.public_id) in ids(results(client, key, name="Neumann"))
    assert str(michaela.public_id) in ids(results(client, key, name="Michaela"))


def test_the_sex_given_ranks_the_matching_person_first(client: Client, key: str) -> None:
    indexed_person("Jordan", "Lee", date(1991, 1, 1), sex="M")
    her = indexed_person("Jordan", "Lee", date(1991, 1, 1), sex="F")
    assert top(client, key, name="Jordan Lee", dob="1991-01-01", sex="f") == str(her.public_id)


# ---------------------------------------------------------------------------------------
# Exact identifiers


@pytest.mark.parametrize(
    ("parameter", "kind", "reason"),
    [
        ("sid", IdentifierKind.SID, "exact SID"),
        ("fbi_number", IdentifierKind.FBI, "exact FBI number"),
        ("dl_number", IdentifierKind.DRIVERS_LICENSE, "exact driver's licence"),
    ],
)
def test_an_exact_identifier_ranks_its_holder_first_with_score_1(
    client: Client, key: str, michaela: Person, parameter: str, kind: str, reason: str
) -> None:
    holder = indexed_person("Pat", "Holder", date(1960, 2, 2), identifiers=[(kind, "CT1234567")])
    found = results(
        client, key, name="Michaela Neumann", dob="1985-11-11", **{parameter: "ct-123 4567"}
    )
    assert found[0]["id"] == str(holder.public_id)
    assert found[0]["score"] == 1.0
    assert found[0]["reasons"][0] == reason
    assert found[1]["id"] == str(michaela.public_id)


def test_an_identifier_alone_is_a_search(client: Client, key: str) -> None:
    holder = indexed_person("Pat", "Holder", identifiers=[(IdentifierKind.SID, "CT7654321")])
    found = results(client, key, sid="CT7654321")
    assert ids(found) == [str(holder.public_id)]
    assert found[0]["matched_name"] == "Pat Holder"


def test_an_identifier_nobody_holds_finds_nobody(client: Client, key: str) -> None:
    indexed_person("Pat", "Holder", identifiers=[(IdentifierKind.SID, "CT7654321")])
    assert results(client, key, sid="CT0000000") == []


def test_a_holder_found_by_name_too_is_shown_once(
    client: Client, key: str, michaela: Person
) -> None:
    PersonIdentifier.objects.create(person=michaela, kind=IdentifierKind.SID, value="CT1234567")
    found = results(client, key, name="Michaela Neumann", sid="CT1234567")
    assert ids(found).count(str(michaela.public_id)) == 1
    assert found[0]["id"] == str(michaela.public_id)
    assert found[0]["reasons"][0] == "exact SID"
    assert "same surname" in found[0]["reasons"]


# ---------------------------------------------------------------------------------------
# Flags, status, merged persons


def test_flags_are_shown_with_wanted_first(client: Client, key: str, michaela: Person) -> None:
    ProtectiveOrderFactory.create(person=michaela)
    WarrantFactory.create(person=michaela, status=WarrantStatus.ACTIVE)
    person_recompute(michaela)
    (first, *_) = results(client, key, name="Michaela Neumann")
    assert first["flags"][0] == "wanted"
    assert "protective_order" in first["flags"]


def test_stored_flags_are_put_in_the_records_order(
    client: Client, key: str, michaela: Person
) -> None:
    Person.objects.filter(pk=michaela.pk).update(flags=["pending_case", "parole", "wanted"])
    (first, *_) = results(client, key, name="Michaela Neumann")
    assert first["flags"] == ["wanted", "parole", "pending_case"]


def test_a_sealed_case_does_not_show_through_the_flags(
    client: Client, key: str, michaela: Person
) -> None:
    CaseFactory.create(person=michaela, status=CaseStatus.PENDING, is_sealed=True)
    WarrantFactory.create(person=michaela, status=WarrantStatus.ACTIVE)
    person_recompute(michaela)
    michaela.refresh_from_db()
    assert "pending_case" in michaela.flags  # stored from every record
    (first, *_) = results(client, key, name="Michaela Neumann")
    assert first["flags"] == ["wanted"]
    assert first["status"] == "no_active_involvement"


def test_a_visible_pending_case_shows_in_flags_and_status(
    client: Client, key: str, michaela: Person
) -> None:
    CaseFactory.create(person=michaela, status=CaseStatus.PENDING)
    person_recompute(michaela)
    (first, *_) = results(client, key, name="Michaela Neumann")
    assert "pending_case" in first["flags"]
    assert first["status"] == "pretrial"


def test_a_merged_person_shows_once_as_the_survivor(
    client: Client, key: str, agency: Agency, michaela: Person
) -> None:
    duplicate = indexed_person("Micaela", "Neuman", DOB, sex="F")
    reviewer = UserFactory.create(username="reviewer", agency=agency, roles=[Role.CJIS_SECURITY])
    person_merge(actor=reviewer, survivor=michaela, merged=duplicate, reason="Same person")
    found = ids(results(client, key, name="Micaela Neuman", dob="1985-11-11"))
    assert found.count(str(michaela.public_id)) == 1
    assert str(duplicate.public_id) not in found


def test_a_name_left_on_a_merged_person_counts_for_the_survivor(
    client: Client, key: str, michaela: Person
) -> None:
    merged = indexed_person("Mikaela", "Noyman", DOB, sex="F")
    Person.objects.filter(pk=merged.pk).update(merged_into=michaela)
    found = results(client, key, first_name="Mikaela", last_name="Noyman", dob="1985-11-11")
    assert ids(found).count(str(michaela.public_id)) == 1
    assert str(merged.public_id) not in ids(found)
    assert found[0]["first_name"] == "Michaela"


def test_an_identifier_of_a_merged_person_finds_the_survivor(
    client: Client, key: str, michaela: Person
) -> None:
    merged = indexed_person("Mikaela", "Noyman", identifiers=[(IdentifierKind.FBI, "99AB1")])
    Person.objects.filter(pk=merged.pk).update(merged_into=michaela)
    assert ids(results(client, key, fbi_number="99AB1")) == [str(michaela.public_id)]


# ---------------------------------------------------------------------------------------
# limit


@pytest.fixture
def smiths() -> list[Person]:
    """Thirty persons named John Smith (and near it): more than one page."""
    return [indexed_person("John", "Smith", date(1950 + n, 1, 1 + n % 28)) for n in range(30)]


def test_limit_defaults_to_10(client: Client, key: str, smiths: list[Person]) -> None:
    assert len(results(client, key, name="John Smith")) == 10


def test_limit_may_be_raised(client: Client, key: str, smiths: list[Person]) -> None:
    assert len(results(client, key, name="John Smith", limit="25")) == 25


def test_limit_of_100_is_allowed(client: Client, key: str, smiths: list[Person]) -> None:
    assert len(results(client, key, name="John Smith", limit="100")) == 30


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "2.5"])
def test_a_bad_limit_is_400_naming_it(client: Client, key: str, limit: str) -> None:
    response = search(client, key, name="John Smith", limit=limit)
    assert response.status_code == 400
    assert "limit" in response.json()


# ---------------------------------------------------------------------------------------
# Bad parameters


@pytest.mark.parametrize(
    "params",
    [{}, {"dob": "1985-11-11"}, {"sex": "F"}, {"name": " ", "first_name": "", "sid": ""}],
    ids=["nothing", "dob alone", "sex alone", "empty parameters"],
)
def test_nothing_to_search_on_is_400_saying_so(
    client: Client, key: str, params: dict[str, str]
) -> None:
    response = search(client, key, **params)
    assert response.status_code == 400
    assert "Nothing to search on" in json.dumps(response.json())


@pytest.mark.parametrize("dob", ["11/11/1985", "1985-13-01", "1985-02-30", "yesterday"])
def test_a_bad_date_of_birth_is_400_naming_the_field(client: Client, key: str, dob: str) -> None:
    response = search(client, key, name="Michaela Neumann", dob=dob)
    assert response.status_code == 400
    assert "dob" in response.json()


def test_an_unknown_purpose_is_400_naming_the_field(client: Client, key: str) -> None:
    response = search(client, key, name="Neumann", purpose="curiosity")
    assert response.status_code == 400
    assert "purpose" in response.json()


def test_an_unknown_sex_is_400_naming_the_field(client: Client, key: str) -> None:
    response = search(client, key, name="Neumann", sex="X")
    assert response.status_code == 400
    assert "sex" in response.json()


def test_name_together_with_first_name_is_400(client: Client, key: str) -> None:
    response = search(client, key, name="Michaela Neumann", first_name="Michaela")
    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.parametrize("params", [{"name": "J."}, {"name": "1234"}, {"first_name": "J"}])
def test_a_name_without_two_letters_is_400(
    client: Client, key: str, params: dict[str, str]
) -> None:
    response = search(client, key, **params)
    assert response.status_code == 400
    assert set(response.json()) & {"name", "first_name"}


def test_an_overlong_name_is_400(client: Client, key: str) -> None:
    response = search(client, key, name="A" * 101)
    assert response.status_code == 400
    assert "name" in response.json()


def test_an_identifier_of_punctuation_only_is_400(client: Client, key: str) -> None:
    response = search(client, key, sid="--")
    assert response.status_code == 400
    assert "sid" in response.json()


def test_empty_parameters_are_ignored(client: Client, key: str, michaela: Person) -> None:
    found = results(client, key, name="Michaela Neumann", dob="", sex="", sid="", limit="")
    assert found[0]["id"] == str(michaela.public_id)


# ---------------------------------------------------------------------------------------
# Audit


def test_every_search_is_audited_with_its_parameters_purpose_and_persons(
    client: Client, key: str, agency: Agency, michaela: Person
) -> None:
    found = results(
        client, key, name="Michaela Neumann", dob="1985-11-11", purpose="traffic_stop", sex=""
    )
    event = AuditEvent.objects.get(action=PERSONS_SEARCHED)
    assert event.api_client is not None
    assert event.agency == agency
    assert event.details["purpose"] == "traffic_stop"
    assert event.details["query"] == {"name": "Michaela Neumann", "dob": "1985-11-11"}
    assert event.details["count"] == len(found)
    assert event.details["persons"] == ids(found)


def test_a_search_without_purpose_is_audited_as_not_stated(client: Client, key: str) -> None:
    assert results(client, key, last_name="Nobody") == []
    event = AuditEvent.objects.get(action=PERSONS_SEARCHED)
    assert event.details["purpose"] == "not stated"
    assert event.details["persons"] == []


def test_a_refused_search_writes_no_search_row(client: Client, key: str) -> None:
    search(client, key, dob="1985-11-11")
    assert not AuditEvent.objects.filter(action=PERSONS_SEARCHED).exists()


# ---------------------------------------------------------------------------------------
# The floor


def test_the_floor_of_a_full_query_is_possible() -> None:
    assert search_floor(Query(first="Michaela", last="Neumann", dob=DOB)) == POSSIBLE


def test_the_floor_of_a_partial_query_stays_under_an_exact_match() -> None:
    surname_alone = Query(last="Neumann")
    assert 0.5 < search_floor(surname_alone) < 0.69


# ---------------------------------------------------------------------------------------
# Schema and cost


def test_schema_describes_the_search_with_its_parameters(client: Client) -> None:
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    operation = json.loads(response.content)["paths"]["/api/v1/search/persons"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert names >= {"name", "first_name", "last_name", "dob", "sex", "sid", "fbi_number"}
    assert names >= {"dl_number", "limit", "purpose"}
    assert {"200", "400", "401", "403"} <= set(operation["responses"])


def test_a_common_name_search_takes_a_fixed_number_of_queries(
    client: Client, key: str, smiths: list[Person], django_assert_max_num_queries: Any
) -> None:
    for person in smiths[:5]:
        WarrantFactory.create(person=person, status=WarrantStatus.ACTIVE)
    for person in smiths:
        person_recompute(person)  # as every intake does: restricted views stored
    search(client, key, name="John Smith")  # warms the client's last-used stamp
    # The key, name keys, name rows, persons with their flags (as the reader sees them)
    # and primary names, and the audit row (chain head read and written, event
    # inserted), on SQLite and PostgreSQL alike; and the savepoint the search's
    # transaction becomes inside the test's own, set and released.
    with django_assert_max_num_queries(9):
        found = results(client, key, name="John Smith", limit="100")
    assert len(found) == 30
