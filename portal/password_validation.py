"""Password rules (CJIS Security Policy / NIST SP 800-63B): long, no composition rules,
spaces allowed, and never a password that is common, compromised, repetitive or made of
the service's own name. Each rule says why it refused.

``data/compromised-passwords.txt.gz`` combines Django's list of 20,000 common passwords
with the 30,000 most frequent passwords from breach corpora that zxcvbn ships, plus
well-known passphrases; entries are lower-case, one per line.
"""

import gzip
import re
import string
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

COMPROMISED_LIST = Path(__file__).resolve().parent / "data" / "compromised-passwords.txt.gz"

_EDGE_NOISE = string.digits + string.punctuation + " "


class LengthValidator:
    def __init__(self, min_length: int = 12, max_length: int = 128) -> None:
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                ngettext(
                    "This password is too short: use at least %(min)d character.",
                    "This password is too short: use at least %(min)d characters. A "
                    "phrase of a few words is easy to remember and hard to guess.",
                    self.min_length,
                ),
                code="password_too_short",
                params={"min": self.min_length},
            )
        if len(password) > self.max_length:
            raise ValidationError(
                "This password is too long: use at most %(max)d characters.",
                code="password_too_long",
                params={"max": self.max_length},
            )

    def get_help_text(self) -> str:
        return (
            f"Use {self.min_length} to {self.max_length} characters. Spaces are allowed; "
            "there are no rules about digits or symbols."
        )


@cache
def _compromised() -> frozenset[str]:
    with gzip.open(COMPROMISED_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip())


def _candidates(password: str) -> set[str]:
    """The password and the forms people derive from a listed one."""
    lowered = password.lower().strip()
    squeezed = re.sub(r"\s+", "", lowered)
    forms = {lowered, squeezed, lowered.strip(_EDGE_NOISE), squeezed.strip(_EDGE_NOISE)}
    # "summer2024summer2024" or "letmein letmein": a repeated listed word.
    for form in list(forms):
        for size in range(1, len(form) // 2 + 1):
            if len(form) % size == 0 and form[:size] * (len(form) // size) == form:
                forms.add(form[:size])
                break
    return {form for form in forms if form}


class CompromisedPasswordValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if not _candidates(password).isdisjoint(_compromised()):
            raise ValidationError(
                "This password appears in lists of common or breached passwords, so "
                "attackers try it first. Choose something of your own.",
                code="password_compromised",
            )

    def get_help_text(self) -> str:
        return "It must not be a common or breached password."


def _step(a: str, b: str) -> int:
    if a.isdigit() and b.isdigit():
        # Digits run on past 9 to 0 ("1234567890 12"), as on a keyboard.
        return (int(b) - int(a) + 5) % 10 - 5
    return ord(b) - ord(a)


def _is_sequential(text: str) -> bool:
    steps = {_step(a, b) for a, b in pairwise(text)}
    return len(steps) == 1 and steps.pop() in (-1, 1)


class RepetitiveOrSequentialValidator:
    def validate(self, password: str, user: Any = None) -> None:
        compact = password.replace(" ", "").lower()
        if len(set(compact)) <= 2 or _is_sequential(compact):
            raise ValidationError(
                "This password is a repeated or sequential run of characters (like "
                "'aaaa' or '1234'), which is guessed at once.",
                code="password_repetitive",
            )

    def get_help_text(self) -> str:
        return "It must not be a run of repeated or sequential characters."


class ContextWordsValidator:
    """Refuse passwords built from the service's name or the user's own username."""

    words = ("cjis", "portal", "password", "passw0rd", "ciss", "obts")

    def validate(self, password: str, user: Any = None) -> None:
        core = re.sub(r"[\W\d_]+", "", password.lower())
        if not core:
            return  # no letters, so no name in it
        words = [*self.words, settings.STATE_NAME.lower().replace(" ", "")]
        username = getattr(user, "username", "") or ""
        if len(username) >= 4:
            words.append(re.sub(r"[\W\d_]+", "", username.lower()))
        # Longest first, so "cjisportal" or "portal cjis 2024" (the service's own name)
        # is taken apart into words just as "cjiscjis" is.
        rest = core
        for word in sorted(filter(None, words), key=len, reverse=True):
            if len(word) >= 4:
                rest = rest.replace(word, "")
        if core in words or not rest:
            raise ValidationError(
                "This password is made of the name of this service or of your username, "
                "which is the first thing an attacker tries.",
                code="password_context",
            )

    def get_help_text(self) -> str:
        return "It must not be made of your username or the name of this service."
