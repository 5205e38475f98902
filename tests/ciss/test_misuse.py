"""Misuse signals: unusual volume against the user's own history, repeated looks at one
person, looks at people sharing the user's surname; the page is for auditors and is
itself audited."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ciss import misuse
from ciss.views import MISUSE_LISTED
from obts.access import RECORD_VIEWED
from obts.models import Person, PersonName
from portal import audit
from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.obts.factories_records import PersonFactory, cj_user

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def looks(user: User, person: Person, times: int, *, at: datetime = NOW) -> None:
    with time_machine.travel(at, tick=False):
        for _ in range(times):
            audit.record(
                RECORD_VIEWED,
                actor=user,
                target=person,
                details={"purpose": "traffic_stop", "records": {}},
            )


def test_a_user_looking_far_more_than_usual_stands_out(agency: Agency) -> None:
    busy = cj_user("busy", agency)
    steady = cj_user("steady", agency)
    people = [PersonFactory.create() for _ in range(3)]
    # Four weeks before the window: steady looked 112 times (28 a week), busy 8.
    for person in people[:2]:
        looks(steady, person, 56, at=NOW - timedelta(days=20))
    looks(busy, people[0], 8, at=NOW - timedelta(days=20))
    # This week: both look 30 times, spread over the three people.
    for person in people:
        looks(busy, person, 10, at=NOW - timedelta(days=2))
        looks(steady, person, 10, at=NOW - timedelta(days=2))

    found = misuse.signals(7, now=NOW)

    assert [signal.user for signal in found.volume] == ["busy"]
    assert found.volume[0].looks == 30
    assert found.volume[0].usual == pytest.approx(2.0)


def test_a_new_user_needs_the_minimum_to_stand_out(agency: Agency) -> None:
    new = cj_user("new", agency)
    for _ in range(misuse.VOLUME_MINIMUM - 1):
        looks(new, PersonFactory.create(), 1, at=NOW - timedelta(hours=1))
    assert misuse.signals(7, now=NOW).volume == []


def test_three_looks_at_one_person_are_a_repeat(agency: Agency) -> None:
    user = cj_user("curious", agency)
    person = PersonFactory.create(name="Jordan Often")
    looks(user, person, 3, at=NOW - timedelta(days=1))
    looks(user, PersonFactory.create(), 2, at=NOW - timedelta(days=1))
    # Looks before the window do not count.
    looks(user, person, 5, at=NOW - timedelta(days=10))

    (repeat,) = misuse.signals(7, now=NOW).repeats

    assert (repeat.user, repeat.person, repeat.looks) == ("curious", "Jordan Often", 3)
    assert repeat.purposes == ["Traffic stop"]


def test_a_look_at_someone_sharing_the_users_surname(agency: Agency) -> None:
    user = cj_user("relative", agency)
    User.objects.filter(pk=user.pk).update(last_name="Núñez")
    cousin = PersonFactory.create(name="Ana Nunez-Garcia")
    in_law = PersonFactory.create(name="Maria Lopez")
    PersonName.objects.create(person=in_law, first_name="Maria", last_name="Nuñez")
    stranger = PersonFactory.create(name="Maria Smith")
    for person in (cousin, in_law, stranger):
        looks(user, person, 1, at=NOW - timedelta(hours=3))

    found = misuse.signals(7, now=NOW).surnames

    assert {signal.person for signal in found} == {"Ana Nunez-Garcia", "Maria Lopez"}
    assert all(signal.surname == "Núñez" for signal in found)


def test_the_page_is_for_auditors_and_is_audited(signed_in: SignIn, agency: Agency) -> None:
    user = cj_user("curious", agency)
    looks(user, PersonFactory.create(name="Jordan Often"), 3, at=datetime.now(tz=UTC))
    auditor = cj_user("auditor", agency, roles=[Role.AUDITOR])

    response = signed_in(auditor).get(reverse("ciss:misuse"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Jordan Often" in page
    assert "No user stands out." in page
    event = AuditEvent.objects.get(action=MISUSE_LISTED)
    assert event.actor == auditor
    assert event.details["repeats"] == 1


def test_officers_may_not_see_it_and_bad_days_are_refused(
    signed_in: SignIn, agency: Agency
) -> None:
    officer = cj_user("officer", agency)
    assert signed_in(officer).get(reverse("ciss:misuse")).status_code == 403
    auditor = cj_user("auditor", agency, roles=[Role.AUDITOR])
    response = signed_in(auditor).get(reverse("ciss:misuse"), {"days": "365"})
    assert response.status_code == 400
    assert "less than or equal to 90" in response.content.decode()
    assert not AuditEvent.objects.filter(action=MISUSE_LISTED).exists()
