"""Links between CISS pages that more than one page builds."""

from urllib.parse import urlencode

from django.urls import reverse

ASSOCIATION_KINDS = ("person", "vehicle", "location", "property", "incident", "case")


def association_url(kind: str, ident: str, purpose: str) -> str:
    """The associations page ("Linked records") of one record: ``kind`` is one of
    ``ASSOCIATION_KINDS``, ``ident`` its public id (for a location, its normalised address
    key), ``purpose`` the search's, so the page need not ask again."""
    if kind not in ASSOCIATION_KINDS:
        raise ValueError(f"No associations page for {kind!r}.")
    path = reverse("ciss:associations")
    return f"{path}?{urlencode({'kind': kind, 'id': ident, 'purpose': purpose})}"
