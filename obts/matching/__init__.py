"""Person matching for the master name index: find the person despite misspellings.

Pure Python, no Django models: exchange intake calls it to link an incoming subject to an
existing person, and person search calls it to rank candidates.

- :mod:`~obts.matching.normalize` — names to comparable forms, free-text name parsing;
- :mod:`~obts.matching.nicknames` — given-name equivalence from the ``nicknames`` data set;
- :mod:`~obts.matching.keys` — blocking keys stored per name row and looked up per query;
- :mod:`~obts.matching.score` — scoring and ranking with reasons, intake thresholds.

Typical use: store ``key_hashes(name_keys(...))`` for every name row; for a query, fetch
the rows whose keys are in ``key_hashes(query_keys(...))``, build :class:`Candidate`
objects and call :func:`rank`.
"""

from obts.matching.dates import DobAgreement, dob_agreement, lenient_dobs
from obts.matching.keys import (
    KEY_KINDS,
    given_codes,
    key_hash,
    key_hashes,
    name_keys,
    query_keys,
    surname_codes,
)
from obts.matching.nicknames import (
    NicknameLink,
    canonical_names,
    name_group,
    nickname_link,
    nicknames_of,
    related_names,
)
from obts.matching.normalize import (
    NameForms,
    ParsedName,
    fold,
    normalize_given,
    normalize_surname,
    parse_name,
    split_suffix,
)
from obts.matching.score import (
    CONFIDENT,
    POSSIBLE,
    Candidate,
    Match,
    Query,
    Ranked,
    compare_given,
    compare_surnames,
    rank,
    score,
)

__all__ = [
    "CONFIDENT",
    "KEY_KINDS",
    "POSSIBLE",
    "Candidate",
    "DobAgreement",
    "Match",
    "NameForms",
    "NicknameLink",
    "ParsedName",
    "Query",
    "Ranked",
    "canonical_names",
    "compare_given",
    "compare_surnames",
    "dob_agreement",
    "fold",
    "given_codes",
    "key_hash",
    "key_hashes",
    "lenient_dobs",
    "name_group",
    "name_keys",
    "nickname_link",
    "nicknames_of",
    "normalize_given",
    "normalize_surname",
    "parse_name",
    "query_keys",
    "rank",
    "related_names",
    "score",
    "split_suffix",
    "surname_codes",
]
