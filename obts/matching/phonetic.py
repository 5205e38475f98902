"""Phonetic codes (jellyfish) on folded names, cut to a fixed length so keys stay short.

Two codes are used for surnames because each misses what the other catches: Metaphone
knows ``C``/``K``, ``PH``/``F`` and silent letters (Catherine ~ Katherine, Neumann ~
Newman); Soundex ignores vowels and ``H``/``W`` after the first letter, so most one-letter
typos keep their code (Smiht ~ Smith, Schmidt ~ Smith).
"""

from functools import lru_cache

import jellyfish

from obts.matching.normalize import fold

CODE_LENGTH = 10


@lru_cache(maxsize=65536)
def metaphone(name: str) -> str:
    """Metaphone code of ``name`` (folded first), at most ``CODE_LENGTH`` characters;
    ``""`` for a name with no letters."""
    folded = fold(name)
    return jellyfish.metaphone(folded)[:CODE_LENGTH] if folded else ""


@lru_cache(maxsize=65536)
def soundex(name: str) -> str:
    """American Soundex code of ``name`` (folded first): a letter and three digits;
    ``""`` for a name with no letters."""
    folded = fold(name)
    return jellyfish.soundex(folded) if folded else ""


def sounds_alike(a: str, b: str) -> bool:
    """True when two names share a Metaphone code, or share a Soundex code and are also
    spelled much alike (Soundex alone is too coarse: Smith and Sandt share S530).
    Empty names never sound alike."""
    if not fold(a) or not fold(b):
        return False
    if metaphone(a) == metaphone(b):
        return True
    return soundex(a) == soundex(b) and jellyfish.jaro_winkler_similarity(fold(a), fold(b)) >= 0.8
