from datetime import date
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import connection

from obts.matching import key_hashes, name_keys
from obts.models import NameKey, Person, PersonName, PersonSource, Warrant
from obts.status import person_recompute
from obts.synthetic import Generator
from obts.synthetic_load import chunks, load, name_key_indexes_deferred

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


def test_chunks_do_not_depend_on_the_number_of_workers() -> None:
    split = chunks(count=25_000, seed=4, start=3, today=TODAY, batch_size=500)
    assert [(c.start, c.count) for c in split] == [(3, 10_000), (10_003, 10_000), (20_003, 5_000)]
    # Each chunk has its own seed, so loading them in any order gives the same people.
    assert len({c.seed for c in split}) == 3
    again = chunks(count=25_000, seed=4, start=3, today=TODAY, batch_size=500)
    assert split == again


@pytest.mark.django_db
def test_generate_persons_adds_the_numbered_people_with_their_keys() -> None:
    out = StringIO()
    call_command("generate_persons", count=30, start=5, seed=2, workers=1, stdout=out)

    assert "Added 30 people" in out.getvalue()
    ids = set(PersonSource.objects.values_list("source_id", flat=True))
    assert ids == {f"SYN-{n}" for n in range(5, 35)}
    for name in PersonName.objects.all()[:20]:
        keys = name_keys(name.first_name, name.middle_name, name.last_name, name.dob)
        assert sorted(name.keys.values_list("key", flat=True)) == key_hashes(keys)


def test_generate_persons_refuses_a_count_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("generate_persons", count=0)
    assert exit_info.value.code == 1
    assert "--count and --batch-size must be positive" in capsys.readouterr().err


def _name_key_schema() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'obts_namekey' "
            "UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'obts_namekey'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_deferred_name_key_indexes_come_back_even_when_the_load_fails() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("indexes are deferred on PostgreSQL only")
    before = _name_key_schema()
    assert any("PRIMARY KEY" in item for item in before)
    assert any("(name_id)" in item for item in before)

    def failing_load() -> None:
        with name_key_indexes_deferred():
            assert _name_key_schema() == set()
            load(Generator(8, TODAY).persons(20), today=TODAY)
            raise RuntimeError("the load failed half way")

    with pytest.raises(RuntimeError):
        failing_load()

    assert _name_key_schema() == before
    assert NameKey.objects.filter(name__person__isnull=False).count() > 20
