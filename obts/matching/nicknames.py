"""Given-name equivalence from nicknames (Bill ~ William, Peggy ~ Margaret, Liz ~ Elizabeth).

The data is the ``nicknames`` package (PyPI ``nicknames``, "Hand-curated dataset of English
names and nicknames", Carlton Northern and Nick Crews, from Old Dominion University's
nickname lookup). Its package metadata declares the licence Apache-2.0, which allows use,
modification and redistribution in this portal provided the licence and notices are kept
with any copy of the data that is shipped. The data is read from the installed package,
never copied into this repository.

The data is a list of ``(name, has_nickname, nickname)`` pairs; some pairs run both ways
(``bill``/``william``) and some names are nicknames of several (``bill`` → William and
Robert). Here a name's *group* is the name itself plus every name it is a nickname of; two
given names are nickname-related when one is in the other's group or their groups meet.
Tables are built once per process, on first use.
"""

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from nicknames import name_triplets

from obts.matching.normalize import fold


@dataclass(frozen=True)
class _Tables:
    canonicals: dict[str, frozenset[str]]  # nickname → names it is a nickname of
    nicknames: dict[str, frozenset[str]]  # name → its nicknames


@cache
def _tables() -> _Tables:
    canonicals: defaultdict[str, set[str]] = defaultdict(set)
    nicknames: defaultdict[str, set[str]] = defaultdict(set)
    for triplet in name_triplets():
        if triplet.relationship != "has_nickname":
            continue
        name, nickname = fold(triplet.name1), fold(triplet.name2)
        if not name or not nickname or name == nickname:
            continue
        canonicals[nickname].add(name)
        nicknames[name].add(nickname)
    return _Tables(
        canonicals={k: frozenset(v) for k, v in canonicals.items()},
        nicknames={k: frozenset(v) for k, v in nicknames.items()},
    )


def canonical_names(name: str) -> frozenset[str]:
    """The names ``name`` is a nickname of, folded to capitals: ``Peggy`` → ``{MARGARET,
    MARGARETTA, MARGUERITE}``. Empty for a name the data does not list as a nickname."""
    return _tables().canonicals.get(fold(name), frozenset())


def nicknames_of(name: str) -> frozenset[str]:
    """The nicknames of ``name``, folded to capitals: ``Elizabeth`` → ``{LIZ, BETH, ...}``.
    Empty for a name with no listed nickname."""
    return _tables().nicknames.get(fold(name), frozenset())


def name_group(name: str) -> frozenset[str]:
    """``name`` (folded) plus every name it is a nickname of: the set the candidate keys
    are built from. ``Bill`` → ``{BILL, WILLIAM, ROBERT, ...}``; an unknown name → itself;
    an empty name → the empty set."""
    folded = fold(name)
    if not folded:
        return frozenset()
    return frozenset({folded}) | canonical_names(folded)


def related_names(name: str) -> frozenset[str]:
    """Every name nickname-related to ``name`` in either direction: its group, its
    nicknames, and the other nicknames of the names in its group. Includes ``name``."""
    group = name_group(name)
    related: set[str] = set(group)
    for member in group:
        related |= nicknames_of(member)
    return frozenset(related)


def _weight(name: str) -> tuple[int, str]:
    # The more nicknames a name has, the more "formal" it is; the name breaks ties.
    return (-len(nicknames_of(name)), name)


@dataclass(frozen=True)
class NicknameLink:
    """How two given names are related: ``nickname`` is a nickname of ``formal``, or (when
    ``shared`` is true) both are nicknames of ``formal``."""

    nickname: str
    formal: str
    shared: bool = False

    def describe(self, first: str, second: str) -> str:
        """Plain words for a reader, using the spellings ``first`` and ``second`` as shown."""
        names = {fold(first): first, fold(second): second}
        if self.shared:
            return f"nicknames {first} and {second} (both {self.formal.title()})"
        nickname = names.get(self.nickname, self.nickname.title())
        formal = names.get(self.formal, self.formal.title())
        return f"nickname {nickname} \u2192 {formal}"


def nickname_link(a: str, b: str) -> NicknameLink | None:
    """How given names ``a`` and ``b`` are nickname-related, or ``None`` when they are not
    (or are the same name, or either is empty). Symmetric apart from the wording."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb or fa == fb:
        return None
    a_is_nickname, b_is_nickname = fb in canonical_names(fa), fa in canonical_names(fb)
    if a_is_nickname or b_is_nickname:
        if a_is_nickname and b_is_nickname:  # listed both ways: the more formal name wins
            a_is_nickname = _weight(fb) <= _weight(fa)
        if a_is_nickname:
            return NicknameLink(nickname=fa, formal=fb)
        return NicknameLink(nickname=fb, formal=fa)
    common = name_group(fa) & name_group(fb)
    if common:
        return NicknameLink(nickname=fa, formal=min(common, key=_weight), shared=True)
    return None
