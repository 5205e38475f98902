"""Name normalisation: the one place that decides how a typed name becomes comparable text.

Every other part of the matcher (keys, scoring) works on the forms made here, so a name is
compared the same way whether it came from an RMS exchange, a court feed or an officer's
search box.

- Case and accents fold to plain ASCII capitals: ``José`` → ``JOSE``, ``Łukasz`` → ``LUKASZ``.
- Punctuation goes; apostrophes join: ``O'Brien`` → ``OBRIEN``, while the words on either
  side are kept as tokens (``O``, ``BRIEN``) so ``Brien`` alone still finds it.
- Hyphenated and multi-word surnames keep each significant part and the joined form:
  ``García-López`` → ``GARCIALOPEZ`` with parts ``GARCIA``, ``LOPEZ``; ``De La Cruz`` →
  ``DELACRUZ`` with tokens ``DE``, ``LA``, ``CRUZ`` and the significant part ``CRUZ``.
- ``Mc``/``Mac`` and ``St``/``Saint`` spellings are offered as variants of each other.
- Generational suffixes (Jr, Sr, II, III, IV) are removed and returned separately.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

# Spelling → canonical suffix. ``V`` is left out on purpose: it is far more often a middle
# initial than "the fifth".
SUFFIXES: dict[str, str] = {
    "JR": "JR",
    "JNR": "JR",
    "JUNIOR": "JR",
    "SR": "SR",
    "SNR": "SR",
    "SENIOR": "SR",
    "II": "II",
    "2ND": "II",
    "III": "III",
    "3RD": "III",
    "IV": "IV",
    "4TH": "IV",
}

# Surname words that do not identify a family on their own ("De La Cruz" is a Cruz). A
# particle that is the last word of a surname is kept as a part ("Le", "Van Le").
PARTICLES: frozenset[str] = frozenset(
    {
        "A",
        "AL",
        "AP",
        "BEN",
        "BIN",
        "D",
        "DA",
        "DAL",
        "DAS",
        "DE",
        "DEI",
        "DEL",
        "DELA",
        "DELLA",
        "DELLE",
        "DEN",
        "DER",
        "DES",
        "DI",
        "DO",
        "DOS",
        "DU",
        "EL",
        "IBN",
        "L",
        "LA",
        "LAS",
        "LE",
        "LES",
        "LO",
        "LOS",
        "MAC",
        "MC",
        "O",
        "SAINT",
        "SAN",
        "SANTA",
        "ST",
        "TEN",
        "TER",
        "VAN",
        "VANDER",
        "VON",
        "Y",
    }
)

_APOSTROPHES = "'\u2019\u2018`\u00b4\u02bc"
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_NOT_ALPHA = re.compile(r"[^A-Z]+")
_VOWELS = frozenset("AEIOUY")


@dataclass(frozen=True)
class NameForms:
    """One name (a surname or a given name) in the forms the matcher compares.

    ``key`` is the whole name as capital letters only; ``tokens`` its words (the spaced
    variant: ``O BRIEN``); ``parts`` the words that identify on their own (particles
    dropped); ``variants`` other whole spellings worth treating as the same name;
    ``suffix`` a generational suffix found at the end (``JR``, ``SR``, ``II``...).
    """

    original: str
    key: str
    tokens: tuple[str, ...]
    parts: tuple[str, ...]
    variants: tuple[str, ...]
    suffix: str = ""

    def __bool__(self) -> bool:
        return bool(self.key)

    @property
    def spaced(self) -> str:
        """The name as separate words: ``O BRIEN``, ``GARCIA LOPEZ``, ``DE LA CRUZ``."""
        return " ".join(self.tokens)

    @property
    def whole_forms(self) -> frozenset[str]:
        """The joined name and its spelling variants (not its single parts)."""
        return frozenset((self.key, *self.variants)) - {""}

    @property
    def all_forms(self) -> frozenset[str]:
        """Every string worth indexing: joined form, variants and significant parts."""
        return frozenset((self.key, *self.variants, *self.parts)) - {""}


@dataclass(frozen=True)
class ParsedName:
    """One reading of a free-text name. Fields keep the spelling as typed."""

    first: str = ""
    middle: str = ""
    last: str = ""
    suffix: str = ""


def fold(text: str) -> str:
    """Fold ``text`` to capital ASCII letters only: ``"O'Brien-José"`` → ``"OBRIENJOSE"``.

    Accents are transliterated (unidecode), every other character dropped. Never raises;
    an empty or unusable string gives ``""``.
    """
    return _NOT_ALPHA.sub("", _ascii_upper(text))


def _ascii_upper(text: str) -> str:
    return unidecode(unicodedata.normalize("NFC", text)).upper()


def _words(text: str) -> list[str]:
    """Upper-case ASCII words; apostrophes, hyphens and other punctuation separate words
    (the joined key puts them back together: O'Brien → O, BRIEN → OBRIEN)."""
    ascii_text = _ascii_upper(text)
    for mark in _APOSTROPHES:
        ascii_text = ascii_text.replace(mark, " ")
    return [w for w in _NOT_ALNUM.split(ascii_text) if w]


def split_suffix(text: str) -> tuple[str, str]:
    """Remove a trailing generational suffix from a name.

    Returns ``(name_without_suffix, canonical_suffix)``: ``"Smith Jr."`` →
    ``("Smith", "JR")``, ``"King III"`` → ``("King", "III")``. A name that is nothing but a
    suffix (``"Junior"``, a real given name) is returned unchanged with ``""``.
    """
    raw = text.replace(",", " ").split()
    if len(raw) < 2:
        return text.strip(), ""
    tail = _NOT_ALNUM.sub("", _ascii_upper(raw[-1]))
    if tail in SUFFIXES:
        return " ".join(raw[:-1]), SUFFIXES[tail]
    return " ".join(text.split()), ""


def _mc_mac_variants(key: str) -> set[str]:
    found: set[str] = set()
    if key.startswith("MC") and len(key) > 4:
        found.add("MAC" + key[2:])
    elif key.startswith("MAC") and len(key) > 5 and key[3] not in _VOWELS:
        found.add("MC" + key[3:])
    return found


def _forms(text: str, *, surname: bool) -> NameForms:
    body, suffix = split_suffix(text) if surname else (text, "")
    tokens = tuple(t for t in (_NOT_ALPHA.sub("", w) for w in _words(body)) if t)
    key = "".join(tokens)
    if surname:
        parts = tuple(t for i, t in enumerate(tokens) if t not in PARTICLES or i == len(tokens) - 1)
    else:
        parts = tokens
    variants: set[str] = set()
    if len(parts) != len(tokens) and parts:
        variants.add("".join(parts))
    variants |= _mc_mac_variants(key)
    if surname and tokens and tokens[0] in ("ST", "SAINT") and len(tokens) > 1:
        rest = "".join(tokens[1:])
        variants |= {"ST" + rest, "SAINT" + rest}
    variants.discard(key)
    return NameForms(
        original=text,
        key=key,
        tokens=tokens,
        parts=parts,
        variants=tuple(sorted(variants)),
        suffix=suffix,
    )


@lru_cache(maxsize=65536)
def normalize_surname(text: str) -> NameForms:
    """Normalise a surname: fold case and accents, drop punctuation, split compound and
    hyphenated names into parts, set particles aside, offer Mc/Mac and St/Saint variants,
    and strip a generational suffix into ``suffix``.

    Never raises: an empty or punctuation-only name gives forms whose ``key`` is ``""``
    (and which are falsy).
    """
    return _forms(text, surname=True)


@lru_cache(maxsize=65536)
def normalize_given(text: str) -> NameForms:
    """Normalise a given (first or middle) name: fold case and accents, drop punctuation,
    and keep each word of a compound name (``Mary-Kate`` → ``MARYKATE``, parts ``MARY``,
    ``KATE``). Suffixes are not looked for here. Never raises; empty input is falsy.
    """
    return _forms(text, surname=False)


def _strip_suffix_tokens(tokens: list[str]) -> tuple[list[str], str]:
    if len(tokens) > 1:
        tail = _NOT_ALNUM.sub("", _ascii_upper(tokens[-1]))
        if tail in SUFFIXES:
            return tokens[:-1], SUFFIXES[tail]
    return tokens, ""


def _is_particle(token: str) -> bool:
    return fold(token) in PARTICLES


def _is_suffix(token: str) -> bool:
    return _NOT_ALNUM.sub("", _ascii_upper(token)) in SUFFIXES


def parse_name(text: str) -> list[ParsedName]:
    """Read a free-text name into its likely (first, middle, last, suffix) readings.

    ``"Smith, John Paul"`` has one reading. Without a comma the order is ambiguous, so
    ``"John Smith"`` gives ``John/Smith`` first and ``Smith/John`` second; three words give
    first-middle-last, last-first-middle and first + two-word surname. Particles stay with
    their surname (``"Juan de la Cruz"`` → last ``de la Cruz``) and a trailing Jr/Sr/II/III/IV
    becomes ``suffix``. A single word is read as a surname, then as a given name. Returns
    ``[]`` for text with no name in it; never raises.
    """
    if not fold(text):
        return []
    if "," in text:
        pieces = [p.strip() for p in text.split(",") if p.strip()]
        suffix = ""
        kept: list[str] = []
        for piece in pieces:
            if _is_suffix(piece):
                suffix = SUFFIXES[_NOT_ALNUM.sub("", _ascii_upper(piece))]
            else:
                kept.append(piece)
        if len(kept) >= 2:
            last, last_suffix = split_suffix(kept[0])
            given, given_suffix = _strip_suffix_tokens(" ".join(kept[1:]).split())
            suffix = suffix or last_suffix or given_suffix
            first = given[0] if given else ""
            return [ParsedName(first, " ".join(given[1:]), last, suffix)]
        text = " ".join(kept)
        if suffix:
            text = f"{text} {suffix}"
    tokens, suffix = _strip_suffix_tokens(text.split())
    if len(tokens) == 1:
        return [
            ParsedName(last=tokens[0], suffix=suffix),
            ParsedName(first=tokens[0], suffix=suffix),
        ]

    readings: list[ParsedName] = []
    # first [middle...] last — a run of particles before the last word belongs to the surname.
    start = len(tokens) - 1
    while start > 1 and _is_particle(tokens[start - 1]):
        start -= 1
    readings.append(
        ParsedName(tokens[0], " ".join(tokens[1:start]), " ".join(tokens[start:]), suffix)
    )
    # last first [middle...] — leading particles belong to the surname too.
    end = 0
    while end < len(tokens) - 2 and _is_particle(tokens[end]):
        end += 1
    readings.append(
        ParsedName(
            tokens[end + 1], " ".join(tokens[end + 2 :]), " ".join(tokens[: end + 1]), suffix
        )
    )
    if len(tokens) == 3 and start == 2:
        readings.append(ParsedName(tokens[0], "", " ".join(tokens[1:]), suffix))
    unique: list[ParsedName] = []
    for reading in readings:
        # "de la Cruz" read as given name "de", middle "la Cruz" is no reading at all.
        implausible = _is_particle(reading.first) and bool(reading.middle)
        if reading not in unique and not implausible:
            unique.append(reading)
    return unique
