from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ciss.inbox import INBOX_ROLES, unread_count
from portal.models import User

UNREAD_BADGE_TEMPLATE = "ciss/inbox/partials/unread_badge.html"


class InboxSummary:
    """The header's view of the user's inbox. The unread count is asked of the database
    only when a template shows it (htmx partials mostly do not)."""

    url = ""
    badge_template = UNREAD_BADGE_TEMPLATE

    def __init__(self, user: User) -> None:
        self.user = user
        self.url = reverse("ciss:inbox")

    @cached_property
    def unread(self) -> int:
        return unread_count(self.user)


def inbox(request: HttpRequest) -> dict[str, Any]:
    """``inbox`` (an ``InboxSummary``) for fully signed-in users who have an inbox."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_fully_signed_in():
        return {}
    if not user.has_role(*INBOX_ROLES):
        return {}
    return {"inbox": InboxSummary(user)}
