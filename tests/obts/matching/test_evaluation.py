"""End-to-end evaluation on synthetic people: candidates are gathered only through
``query_keys`` ∩ ``name_keys`` (as the database will), then ranked by ``score``.

Population: 300 seeded Faker persons (English and Spanish names with accents, compound and
particle surnames, aliases, siblings, twins, Jr/Sr pairs) among 5,000 census-weighted
distractors. Each person is searched four times, each query with one kind of damage, and
then with pairs of damage (reported, held to a lower bar)."""

from collections import Counter, defaultdict
from datetime import date

import pytest

from obts.matching import query_keys
from tests.obts.matching.synthetic import (
    DAMAGE_KINDS,
    DamagedQuery,
    KeyIndex,
    Person,
    build_index,
    damaged_queries,
    doubly_damaged_queries,
    make_large_population,
    make_population,
)


@pytest.fixture(scope="module")
def persons() -> list[Person]:
    return make_population(300, seed=20261120)


@pytest.fixture(scope="module")
def index(persons: list[Person]) -> KeyIndex:
    built = build_index(persons)
    for row in make_large_population(5000, seed=99):
        built.add(row)
    return built


def _evaluate(index: KeyIndex, queries: list[DamagedQuery], title: str) -> tuple[float, float]:
    """Rank 1 and top 10 rates over ``queries``; prints them overall and per kind."""
    by_kind: defaultdict[str, list[int | None]] = defaultdict(list)
    for damaged in queries:
        ids = [r.candidate.person_id for r in index.search(damaged.query)]
        position = ids.index(damaged.person_id) if damaged.person_id in ids else None
        by_kind[damaged.kind].append(position)

    def rates(found: list[int | None]) -> tuple[float, float]:
        first = sum(p == 0 for p in found) / len(found)
        ten = sum(p is not None and p < 10 for p in found) / len(found)
        return first, ten

    top1, top10 = rates([p for found in by_kind.values() for p in found])
    print(f"\n{title}: {len(queries)} queries, rank 1 {top1:.1%}, top 10 {top10:.1%}")
    for kind, found in sorted(by_kind.items()):
        first, ten = rates(found)
        print(f"  {kind:28s} {len(found):4d} queries  rank 1 {first:6.1%}  top 10 {ten:6.1%}")
    return top1, top10


def test_true_person_ranks_first_for_93_percent_and_top_ten_for_98(
    persons: list[Person], index: KeyIndex
) -> None:
    queries = damaged_queries(persons, seed=7)
    assert len({q.kind for q in queries}) == len(DAMAGE_KINDS)
    top1, top10 = _evaluate(index, queries, "one kind of damage")
    assert top1 >= 0.93
    assert top10 >= 0.98


def test_true_person_is_mostly_found_with_two_kinds_of_damage(
    persons: list[Person], index: KeyIndex
) -> None:
    queries = doubly_damaged_queries(persons, seed=11)
    _, top10 = _evaluate(index, queries, "two kinds of damage")
    assert top10 >= 0.9


@pytest.fixture(scope="module")
def large_index() -> KeyIndex:
    built = KeyIndex()
    for row in make_large_population(20000, seed=5):
        built.add(row)
    return built


def _common_pairs(index: KeyIndex) -> list[tuple[str, str, int]]:
    surnames = Counter(row.last for row in index.rows)
    pairs = []
    for surname, count in surnames.most_common(3):
        givens = Counter(row.first for row in index.rows if row.last == surname)
        pairs += [(given, surname, count) for given, _ in givens.most_common(3)]
    return pairs


def test_common_names_without_a_date_read_a_few_percent_of_the_surname(
    large_index: KeyIndex,
) -> None:
    for first, last, surname_rows in _common_pairs(large_index):
        candidates = large_index.candidates(query_keys(first, last))
        print(f"\n{first} {last}: {len(candidates)} of {surname_rows} surname rows")
        assert len(candidates) <= 0.08 * surname_rows


def test_common_names_with_a_date_read_a_handful_of_rows(large_index: KeyIndex) -> None:
    for first, last, surname_rows in _common_pairs(large_index):
        candidates = large_index.candidates(query_keys(first, last, date(1980, 5, 17)))
        assert len(candidates) <= 0.02 * surname_rows


def test_common_given_name_and_date_read_a_handful_of_rows(large_index: KeyIndex) -> None:
    for first, _, _ in _common_pairs(large_index):
        assert len(large_index.candidates(query_keys(first, "", date(1980, 5, 17)))) <= 10
