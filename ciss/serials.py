"""Serial numbers of firearms and articles in the form that is compared.

Serials are stamped, engraved and copied by hand, so ``AB-1234 5``, ``ab12345`` and
``AB 12345`` are the same serial. :func:`serial_key` keeps capitals and digits only and,
as plates do (``ciss.plates``), reads O as 0 and I as 1: letters and digits that a
worn stamp or a hurried hand confuses."""

import re

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_FOLD = str.maketrans({"O": "0", "Q": "0", "I": "1"})


def serial_key(text: str) -> str:
    return _NOT_ALNUM.sub("", text.upper()).translate(_FOLD)
