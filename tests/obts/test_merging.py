"""Merging two persons, undoing a merge, dismissing a possible duplicate: what moves,
what comes back, what is refused, what is audited, the sentence dates computed after
each, and the CJIS review pages."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from obts.access import Purpose
from obts.merging import (
    DUPLICATE_DISMISSED,
    PERSON_MERGE_UNDONE,
    PERSON_MERGED,
    RECORD_KINDS,
    duplicate_dismiss,
    person_merge,
    person_merge_undo,
)
from obts.models import (
    DuplicateStatus,
    Flag,
    Person,
    PersonMerge,
    PersonName,
    PersonSource,
    PossibleDuplicate,
    Sentence,
    SentenceRelation,
)
from obts.timecalc import calculate, person_sentences_recalculate
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role
from tests.factories import make_api_client
from tests.obts.factories_records import CaseFactory, PersonFactory, SentenceFactory, cj_user
from tests.obts.factories_records import subject_with_every_kind_of_record as full_person

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
Snapshot = dict[str, set[int]]
Dates = dict[int, tuple[date | None, date | None, list[str]]]
NOT_THIS_PERSONS = "a sentence that is not one of this person's sentences"


def snapshot(person: Person) -> Snapshot:
    return {
        kind: set(model._default_manager.filter(person=person).values_list("pk", flat=True))
        for kind, model in RECORD_KINDS.items()
    }


@pytest.fixture
def reviewer(agency: Agency) -> User:
    return cj_user("cjis-reviewer", agency, roles=[Role.CJIS_SECURITY])


@pytest.fixture
def survivor() -> Person:
    return PersonFactory.create(name="Jordan Doe")


@pytest.fixture
def merged() -> Person:
    person = full_person().person
    PersonSource.objects.create(
        person=person,
        source_system="DPS-MNI",
        source_id="A-2002",
        as_of=datetime(2026, 1, 5, tzinfo=UTC),
    )
    return person


def sentence_dates(person: Person) -> Dates:
    """What the record page shows of each of the person's sentences: start, maximum
    release date and the steps of the calculation."""
    return {
        sentence.pk: (sentence.starts_on, sentence.max_release_on, sentence.calculation)
        for sentence in Sentence.objects.filter(person=person)
    }


@dataclass
class Chain:
    """The survivor's sentence, and a sentence of the merged person consecutive to it."""

    first: Sentence
    follower: Sentence


@pytest.fixture
def chain(survivor: Person, merged: Person) -> Chain:
    # 100 days from 2025-01-10: released 2025-04-19. The follower (30 days) can only
    # start after that once both sentences are the same person's.
    first = SentenceFactory.create(
        person=survivor, imposed_on=date(2025, 1, 10), incarceration_days=100
    )
    follower = SentenceFactory.create(
        person=merged,
        imposed_on=date(2025, 2, 1),
        incarceration_days=30,
        relation=SentenceRelation.CONSECUTIVE,
        consecutive_to=first,
    )
    person_sentences_recalculate(survivor)
    person_sentences_recalculate(merged)
    first.refresh_from_db()
    follower.refresh_from_db()
    return Chain(first=first, follower=follower)


def merge(actor: User, survivor: Person, merged: Person) -> PersonMerge:
    return person_merge(actor=actor, survivor=survivor, merged=merged, reason="Same SID")


def duplicate(person: Person, candidate: Person) -> PossibleDuplicate:
    return PossibleDuplicate.objects.create(
        person=person, candidate=candidate, score=0.8, reasons=["name + date of birth"]
    )


# ---------------------------------------------------------------------------------------
# Merge


def test_merge_moves_every_kind_of_record_to_the_survivor(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    before_merged, before_survivor = snapshot(merged), snapshot(survivor)
    assert all(before_merged.values()), "the merged person must hold every kind of record"
    result = merge(reviewer, survivor, merged)
    after = snapshot(survivor)
    assert after == {kind: before_survivor[kind] | before_merged[kind] for kind in RECORD_KINDS}
    assert not any(snapshot(merged).values())
    assert {kind: set(ids) for kind, ids in result.moved.items() if kind in RECORD_KINDS} == (
        before_merged
    )


def test_merge_points_the_merged_person_at_the_survivor(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    merged.refresh_from_db()
    assert merged.merged_into == survivor


def test_merged_persons_names_become_aliases_of_the_survivor(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    primary = PersonName.objects.filter(person=survivor, is_primary=True)
    assert [str(name) for name in primary] == ["Jordan Doe"]
    assert PersonName.objects.filter(person=survivor, last_name="Subject").exists()


def test_merge_recomputes_the_survivors_flags(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    survivor.refresh_from_db()
    assert Flag.WANTED in survivor.flags
    assert Flag.OFFICER_CAUTION in survivor.flags


def test_merge_resolves_open_duplicates_between_the_two(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    merge(reviewer, survivor, merged)
    item.refresh_from_db()
    assert item.status == DuplicateStatus.MERGED
    assert item.resolved_by == reviewer


def test_merged_person_record_page_shows_the_survivor(
    signed_in: SignIn, officer: User, reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    url = reverse("obts:person", kwargs={"public_id": merged.public_id})
    response = signed_in(officer).get(url, {"purpose": Purpose.TRAFFIC_STOP})
    assert response.status_code == 200
    assert "was merged into this one" in response.content.decode()
    assert "Jordan Doe" in response.content.decode()


def test_merged_person_api_answers_with_the_survivor(
    client: Client, agency: Agency, reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    _, key = make_api_client(agency, [ApiScope.RECORDS_READ])
    url = reverse("api-person", kwargs={"public_id": merged.public_id})
    response = client.get(url, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json()["id"] == str(survivor.public_id)


def test_merge_is_audited_with_both_ids_counts_and_reason(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    event = AuditEvent.objects.get(action=PERSON_MERGED)
    assert event.actor == reviewer
    assert event.details["survivor"] == str(survivor.public_id)
    assert event.details["merged"] == str(merged.public_id)
    assert event.details["moved"]["cases"] == 3
    assert event.details["reason"] == "Same SID"


def test_merge_stores_the_reason(reviewer: User, survivor: Person, merged: Person) -> None:
    person_merge(actor=reviewer, survivor=survivor, merged=merged, reason="  Same SID  ")
    assert PersonMerge.objects.get().reason == "Same SID"


def test_person_cannot_be_merged_into_themselves(reviewer: User, survivor: Person) -> None:
    with pytest.raises(ValidationError, match="into themselves"):
        merge(reviewer, survivor, survivor)


def test_person_cannot_be_merged_into_a_person_merged_away(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    with pytest.raises(ValidationError, match="itself merged into another"):
        merge(reviewer, merged, PersonFactory.create())


def test_person_already_merged_cannot_be_merged_again(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    with pytest.raises(ValidationError, match="already merged"):
        merge(reviewer, PersonFactory.create(), merged)


def test_merge_without_reason_is_refused(reviewer: User, survivor: Person, merged: Person) -> None:
    with pytest.raises(ValidationError, match="reason"):
        person_merge(actor=reviewer, survivor=survivor, merged=merged, reason="  ")
    assert not PersonMerge.objects.exists()


# ---------------------------------------------------------------------------------------
# Undo


def test_undo_restores_exactly_the_records_of_each_person(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    before = snapshot(survivor), snapshot(merged)
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    assert (snapshot(survivor), snapshot(merged)) == before


def test_undo_restores_primary_names(reviewer: User, survivor: Person, merged: Person) -> None:
    primary_before = set(PersonName.objects.filter(is_primary=True).values_list("pk", flat=True))
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    assert (
        set(PersonName.objects.filter(is_primary=True).values_list("pk", flat=True))
        == primary_before
    )


def test_record_added_to_survivor_after_merge_stays_after_undo(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    done = merge(reviewer, survivor, merged)
    later = CaseFactory.create(person=survivor, arrest_date=date(2026, 1, 2))
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    later.refresh_from_db()
    assert later.person == survivor


def test_undo_clears_merged_into_and_marks_the_merge_undone(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    merged.refresh_from_db()
    done.refresh_from_db()
    assert merged.merged_into is None
    assert done.undone_by == reviewer
    assert done.undone_at is not None


def test_undo_restores_the_survivors_caution_and_flags(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.caution == ""
    assert Flag.WANTED not in survivor.flags
    assert Flag.WANTED in merged.flags


def test_undo_reopens_the_duplicate_the_merge_resolved(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    item.refresh_from_db()
    assert item.status == DuplicateStatus.OPEN


def test_undo_is_audited(reviewer: User, survivor: Person, merged: Person) -> None:
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    event = AuditEvent.objects.get(action=PERSON_MERGE_UNDONE)
    assert event.details["merged"] == str(merged.public_id)
    assert event.details["reason"] == "Different people"


def test_undo_stores_its_reason(reviewer: User, survivor: Person, merged: Person) -> None:
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason=" Different people ")
    done.refresh_from_db()
    assert done.undo_reason == "Different people"
    assert done.reason == "Same SID"


def test_undo_without_reason_is_refused(reviewer: User, survivor: Person, merged: Person) -> None:
    done = merge(reviewer, survivor, merged)
    with pytest.raises(ValidationError, match="reason"):
        person_merge_undo(actor=reviewer, merge=done, reason=" ")
    merged.refresh_from_db()
    assert merged.merged_into == survivor


def test_merge_cannot_be_undone_twice(reviewer: User, survivor: Person, merged: Person) -> None:
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    with pytest.raises(ValidationError, match="already undone"):
        person_merge_undo(actor=reviewer, merge=done, reason="Again")


def test_undo_is_refused_while_a_later_merge_of_either_person_is_active(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    done = merge(reviewer, survivor, merged)
    merge(reviewer, PersonFactory.create(name="Third Person"), survivor)
    with pytest.raises(ValidationError, match="undo it first"):
        person_merge_undo(actor=reviewer, merge=done, reason="Different people")


# ---------------------------------------------------------------------------------------
# Sentence dates


def test_consecutive_sentence_across_the_two_persons_has_no_dates_before_the_merge(
    chain: Chain,
) -> None:
    assert chain.follower.starts_on is None
    assert chain.follower.max_release_on is None
    assert f"Consecutive to {NOT_THIS_PERSONS}" in chain.follower.calculation


def test_merge_starts_the_merged_persons_consecutive_sentence_after_the_survivors(
    reviewer: User, survivor: Person, merged: Person, chain: Chain
) -> None:
    merge(reviewer, survivor, merged)
    chain.follower.refresh_from_db()
    assert chain.follower.starts_on == date(2025, 4, 20)
    assert chain.follower.max_release_on == date(2025, 5, 19)
    assert (
        "Consecutive to sentence of 2025-01-10, which ends 2025-04-19 → starts 2025-04-20"
        in chain.follower.calculation
    )


def test_merge_stores_the_dates_the_time_calculation_gives_for_the_combined_sentences(
    reviewer: User, survivor: Person, merged: Person, chain: Chain
) -> None:
    merge(reviewer, survivor, merged)
    sentences = list(Sentence.objects.filter(person=survivor).select_related("case"))
    assert len(sentences) == 4, "the survivor's sentence, the follower and two of the merged"
    expected = {
        pk: (result.starts_on, result.max_release_on, result.steps)
        for pk, result in calculate(sentences).items()
    }
    assert sentence_dates(survivor) == expected


def test_survivors_record_page_shows_the_dates_computed_after_the_merge(
    signed_in: SignIn,
    agency: Agency,
    reviewer: User,
    survivor: Person,
    merged: Person,
    chain: Chain,
) -> None:
    merge(reviewer, survivor, merged)
    reader = cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY])
    url = reverse("obts:person", kwargs={"public_id": survivor.public_id})
    page = signed_in(reader).get(url, {"purpose": Purpose.TRAFFIC_STOP}).content.decode()
    assert "which ends 2025-04-19 → starts 2025-04-20" in page
    assert "Maximum release date 2025-05-19" in page
    assert NOT_THIS_PERSONS not in page


def test_undo_gives_each_person_the_dates_of_their_own_sentences_back(
    reviewer: User, survivor: Person, merged: Person, chain: Chain
) -> None:
    before = sentence_dates(survivor), sentence_dates(merged)
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    assert (sentence_dates(survivor), sentence_dates(merged)) == before
    chain.follower.refresh_from_db()
    assert chain.follower.starts_on is None


def test_survivors_sentence_following_a_returned_sentence_loses_its_dates_on_undo(
    reviewer: User, survivor: Person, merged: Person, chain: Chain
) -> None:
    done = merge(reviewer, survivor, merged)
    # Received after the merge, consecutive to the sentence the merge brought.
    later = SentenceFactory.create(
        person=survivor,
        imposed_on=date(2025, 3, 1),
        incarceration_days=10,
        relation=SentenceRelation.CONSECUTIVE,
        consecutive_to=chain.follower,
    )
    person_sentences_recalculate(survivor)
    later.refresh_from_db()
    assert later.starts_on == date(2025, 5, 20)
    person_merge_undo(actor=reviewer, merge=done, reason="Different people")
    later.refresh_from_db()
    assert later.person == survivor
    assert (later.starts_on, later.max_release_on) == (None, None)
    assert f"Consecutive to {NOT_THIS_PERSONS}" in later.calculation


def test_merge_goes_through_when_sentence_dates_would_pass_the_year_9999(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    SentenceFactory.create(person=merged, imposed_on=date(9999, 6, 1), incarceration_days=500)
    merge(reviewer, survivor, merged)
    merged.refresh_from_db()
    assert merged.merged_into == survivor


# ---------------------------------------------------------------------------------------
# Dismiss


def test_dismiss_marks_not_the_same_person_and_audits(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    duplicate_dismiss(actor=reviewer, duplicate=item, reason="Different DOB")
    item.refresh_from_db()
    assert item.status == DuplicateStatus.DISMISSED
    event = AuditEvent.objects.get(action=DUPLICATE_DISMISSED)
    assert event.details["reason"] == "Different DOB"


def test_resolved_duplicate_cannot_be_dismissed(
    reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    duplicate_dismiss(actor=reviewer, duplicate=item, reason="Different DOB")
    with pytest.raises(ValidationError, match="already resolved"):
        duplicate_dismiss(actor=reviewer, duplicate=item, reason="Again")


# ---------------------------------------------------------------------------------------
# Pages


def test_anonymous_visitor_of_duplicates_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("obts:duplicates"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", ["obts:duplicates", "obts:merges"])
def test_officer_gets_403_on_review_pages(signed_in: SignIn, officer: User, name: str) -> None:
    assert signed_in(officer).get(reverse(name)).status_code == 403


@pytest.mark.parametrize(
    "name", ["obts:duplicate_merge", "obts:duplicate_dismiss", "obts:merge_undo"]
)
def test_get_on_post_only_actions_is_405(signed_in: SignIn, reviewer: User, name: str) -> None:
    assert signed_in(reviewer).get(reverse(name)).status_code == 405


def test_duplicates_page_shows_both_persons_side_by_side(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    duplicate(merged, survivor)
    response = signed_in(reviewer).get(reverse("obts:duplicates"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Casey Subject" in content
    assert "Jordan Doe" in content
    assert "CT5550001" in content
    assert "name + date of birth" in content
    assert "Merge into Jordan Doe" in content
    assert "Not the same person" in content


def test_duplicates_page_without_items_says_so(signed_in: SignIn, administrator: User) -> None:
    response = signed_in(administrator).get(reverse("obts:duplicates"))
    assert response.status_code == 200
    assert "No possible duplicates are waiting for review." in response.content.decode()


def test_duplicates_page_query_count_is_fixed(
    signed_in: SignIn,
    reviewer: User,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(5):
        duplicate(PersonFactory.create(), PersonFactory.create())
    client = signed_in(reviewer)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("obts:duplicates")).status_code == 200


def test_reviewer_merges_from_the_duplicates_page(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    response = signed_in(reviewer).post(
        reverse("obts:duplicate_merge"),
        {"duplicate": item.pk, "survivor": survivor.public_id, "reason": "Same SID"},
        follow=True,
    )
    merged.refresh_from_db()
    assert merged.merged_into == survivor
    assert "Merged Casey Subject into Jordan Doe" in response.content.decode()


def test_merge_without_reason_shows_the_error(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    response = signed_in(reviewer).post(
        reverse("obts:duplicate_merge"),
        {"duplicate": item.pk, "survivor": survivor.public_id, "reason": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    merged.refresh_from_db()
    assert merged.merged_into is None


def test_merge_into_a_third_person_shows_the_error(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    third = PersonFactory.create()
    response = signed_in(reviewer).post(
        reverse("obts:duplicate_merge"),
        {"duplicate": item.pk, "survivor": third.public_id, "reason": "Same"},
        follow=True,
    )
    assert "must be one of the two" in response.content.decode()


def test_reviewer_dismisses_from_the_duplicates_page(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    item = duplicate(merged, survivor)
    response = signed_in(reviewer).post(
        reverse("obts:duplicate_dismiss"),
        {"duplicate": item.pk, "reason": "Different DOB"},
        follow=True,
    )
    item.refresh_from_db()
    assert item.status == DuplicateStatus.DISMISSED
    assert "Marked as two different people." in response.content.decode()


def test_merges_page_lists_the_merge_with_an_undo_button(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    merge(reviewer, survivor, merged)
    response = signed_in(reviewer).get(reverse("obts:merges"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Casey Subject" in content
    assert "Undo merge" in content


def test_merges_page_shows_the_reasons_for_the_merge_and_its_undo(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    done = person_merge(
        actor=reviewer, survivor=survivor, merged=merged, reason="Same SID and fingerprints"
    )
    person_merge_undo(actor=reviewer, merge=done, reason="Twins, per DOC records")
    content = signed_in(reviewer).get(reverse("obts:merges")).content.decode()
    assert "Same SID and fingerprints" in content
    assert "Twins, per DOC records" in content


def test_merge_reason_is_shown_in_the_admin(
    signed_in: SignIn, administrator: User, reviewer: User, survivor: Person, merged: Person
) -> None:
    administrator.is_superuser = True
    administrator.save(update_fields=["is_superuser"])
    done = person_merge(
        actor=reviewer, survivor=survivor, merged=merged, reason="Same SID and fingerprints"
    )
    client = signed_in(administrator)
    listing = client.get(reverse("admin:obts_personmerge_changelist")).content.decode()
    detail = client.get(reverse("admin:obts_personmerge_change", args=[done.pk]))
    assert "Same SID and fingerprints" in listing
    assert "Same SID and fingerprints" in detail.content.decode()


def test_merges_page_query_count_is_fixed(
    signed_in: SignIn,
    reviewer: User,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(5):
        merge(reviewer, PersonFactory.create(), PersonFactory.create())
    client = signed_in(reviewer)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("obts:merges")).status_code == 200


def test_reviewer_undoes_from_the_merges_page(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    done = merge(reviewer, survivor, merged)
    response = signed_in(reviewer).post(
        reverse("obts:merge_undo"), {"merge": done.pk, "reason": "Wrong"}, follow=True
    )
    merged.refresh_from_db()
    assert merged.merged_into is None
    assert "The merge is undone" in response.content.decode()


def test_undo_twice_from_the_page_shows_the_error(
    signed_in: SignIn, reviewer: User, survivor: Person, merged: Person
) -> None:
    done = merge(reviewer, survivor, merged)
    person_merge_undo(actor=reviewer, merge=done, reason="Wrong")
    response = signed_in(reviewer).post(
        reverse("obts:merge_undo"), {"merge": done.pk, "reason": "Again"}, follow=True
    )
    assert response.status_code == 200
    assert "already undone" in response.content.decode()
