"""Fast date filters for pages that print many dates (a person's timeline can hold
hundreds): ``{{ day|ymd }}`` and ``{{ moment|ymd_hm }}`` give what ``date:"Y-m-d"`` and
``date:"Y-m-d H:i"`` give, several times faster, as they skip the localisation machinery
the ISO forms do not need. ``None`` and other values give the empty string, so
``|default:"—"`` still applies."""

from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter(is_safe=True)
def ymd(value: Any) -> str:
    """A date, or a date-time in the current time zone, as ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        return _local(value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""


@register.filter(is_safe=True)
def ymd_hm(value: Any) -> str:
    """A date-time in the current time zone as ``YYYY-MM-DD HH:MM``."""
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return ""
