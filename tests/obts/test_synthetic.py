from datetime import date
from itertools import pairwise

import pytest

from obts.models import NameKey, Person, PersonName, Warrant
from obts.status import person_recompute
from obts.synthetic import Generator
from obts.synthetic_load import load

TODAY = date(2026, 11, 23)


def test_same_seed_makes_the_same_people() -> None:
    first = [p.primary for p in Generator(5, TODAY).persons(50)]
    again = [p.primary for p in Generator(5, TODAY).persons(50)]
    assert first == again


def test_families_share_surname_and_address() -> None:
    people = list(Generator(3, TODAY).persons(400))
    shared = sum(
        1
        for a, b in pairwise(people)
        if a.primary.last == b.primary.last and a.address == b.address
    )
    assert shared >= 40


def test_population_has_aliases_compound_surnames_and_histories() -> None:
    people = list(Generator(11, TODAY).persons(2000))
    assert sum(bool(p.aliases) for p in people) > 100
    assert sum("-" in p.primary.last for p in people) > 20
    assert sum(bool(p.cases) for p in people) > 400
    assert sum(bool(p.warrants) for p in people) > 20


@pytest.mark.django_db
def test_loaded_people_carry_the_status_and_flags_intake_would_compute() -> None:
    load(Generator(21, TODAY).persons(300), today=TODAY, batch_size=120)

    assert Person.objects.count() == 300
    assert NameKey.objects.count() >= PersonName.objects.count()
    wanted = Person.objects.filter(warrants__status="active").distinct()
    assert wanted.exists()
    for person in Person.objects.all()[:300]:
        assert not person_recompute(person, today=TODAY), f"flags of {person.pk} disagree"
    assert all("wanted" in p.flags for p in wanted)
    assert Warrant.objects.filter(status="active").count() >= 1
