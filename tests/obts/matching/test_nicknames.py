import pytest

from obts.matching import canonical_names, name_group, nickname_link, nicknames_of, related_names
from obts.matching import nicknames as nickname_module


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [
        ("Bill", "WILLIAM"),
        ("Peggy", "MARGARET"),
        ("Liz", "ELIZABETH"),
        ("Bob", "ROBERT"),
        ("Jack", "JOHN"),
    ],
)
def test_nickname_maps_to_its_formal_name(nickname: str, formal: str) -> None:
    assert formal in canonical_names(nickname)


def test_formal_name_maps_to_its_nicknames() -> None:
    assert {"BILL", "WILL"} <= nicknames_of("William")


def test_link_holds_in_both_directions_with_the_same_wording() -> None:
    one, other = nickname_link("Bill", "William"), nickname_link("William", "Bill")
    assert one is not None
    assert other is not None
    assert one.describe("Bill", "William") == "nickname Bill \u2192 William"
    assert other.describe("William", "Bill") == "nickname Bill \u2192 William"


def test_two_nicknames_of_one_name_are_linked_through_it() -> None:
    link = nickname_link("Mike", "Mickey")
    assert link is not None
    assert (link.shared, link.formal) == (True, "MICHAEL")


def test_related_names_reach_formal_names_and_sibling_nicknames() -> None:
    assert {"MICKEY", "MICHAEL", "MIKE"} <= related_names("Mickey")


def test_unrelated_names_are_not_linked() -> None:
    assert nickname_link("John", "Mary") is None


def test_a_name_is_not_its_own_nickname() -> None:
    assert nickname_link("Bill", "BILL") is None


def test_group_of_an_unlisted_name_is_the_name_alone() -> None:
    assert name_group("Zebulonius") == frozenset({"ZEBULONIUS"})


def test_lookup_ignores_case_and_accents() -> None:
    assert canonical_names("PEGGY") == canonical_names("peggy")
    assert "ELIZABETH" in canonical_names("Líz")


def test_data_is_loaded_once() -> None:
    nickname_module.canonical_names("Bill")
    before = nickname_module._tables.cache_info()
    nickname_module.nicknames_of("Margaret")
    after = nickname_module._tables.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 1)
