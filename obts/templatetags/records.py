"""Rows of a person's record that repeat by the hundred on a heavy record's page (the
timeline, cases with their charges, sentences with their calculation, custody,
supervision, orders, warrants, infractions, each record's provenance), written in Python
rather than by the template engine, which spends some microseconds on every variable and
include: for a heavy person a third of the page's time. The markup is what the templates
wrote, every value escaped."""

import functools
import html
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import Any

from django import template
from django.db import models
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from obts.access import SentenceView
from obts.models import (
    Case,
    Charge,
    CustodyPeriod,
    Infraction,
    ProtectiveOrder,
    Sentence,
    Supervision,
    Warrant,
)
from obts.models.base import SourceRecord
from obts.selectors import TimelineEvent

register = template.Library()

NO_WRAP = "text-no-wrap"


def escape(text: str) -> str:
    """``html.escape``, returning text without any markup character as it is: most values
    here are dates, codes and plain words, and a heavy record has some 1,600 of them
    (about 0.2 against 0.35 microseconds each)."""
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return html.escape(text)
    return text


def _td(label: str, content: str, css: str = "") -> str:
    """One cell; ``content`` is markup, already escaped."""
    css = f' class="{css}"' if css else ""
    return f'<td data-label="{label}"{css}>{content}</td>'


def _rows(rows: list[list[str]], attributes: list[str] | None = None) -> SafeString:
    lines = [
        f"<tr{attributes[index] if attributes else ''}>{''.join(cells)}</tr>"
        for index, cells in enumerate(rows)
    ]
    # Built from escaped values only.
    return mark_safe("\n".join(lines))  # noqa: S308


def _text(value: Any, empty: str = "—") -> str:
    return escape(str(value)) if value not in (None, "") else empty


def _ymd(value: date | None) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if value is not None else ""


@functools.lru_cache(maxsize=4096)
def _ymd_hm(value: datetime | None, zone: tzinfo) -> str:
    """As the ``ymd_hm`` filter gives it, with the current zone looked up once. Kept per
    moment and zone: the records of one feed share their as-of time, and a heavy record
    spells the same few moments a few hundred times."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = value.astimezone(zone)
    # Not strftime: a third of its time, and a heavy record spells a few hundred of these.
    return "%04d-%02d-%02d %02d:%02d" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
    )


def _in_brackets(value: str) -> str:
    return f" ({escape(value)})" if value else ""


@functools.cache
def _labels(model: type[models.Model], field: str) -> dict[Any, str]:
    choices = model._meta.get_field(field)
    assert isinstance(choices, models.Field)  # noqa: S101  (a column, not a relation)
    return {value: str(label) for value, label in choices.flatchoices}


def _label(model: type[models.Model], field: str, value: Any) -> str:
    """What ``get_<field>_display()`` gives (the choice's label, or the value itself),
    without its per-call work: a heavy record has a few hundred of them."""
    return _labels(model, field).get(value, str(value))


def _provenance(item: SourceRecord, zone: tzinfo) -> str:
    return (
        f'<span class="usa-hint font-body-3xs">{escape(item.source_system)} '
        f"{escape(item.source_id)}, as of {_ymd_hm(item.as_of, zone)}</span>"
    )


@register.filter
def provenance(item: SourceRecord) -> SafeString:
    """Where a record came from: source system, its id there, and as of when."""
    # Built from escaped values only.
    return mark_safe(_provenance(item, timezone.get_current_timezone()))  # noqa: S308


def _list_items(lines: Iterable[str]) -> str:
    """Each line as an ``<li>``, escaped."""
    return "".join(f"<li>{escape(line)}</li>" for line in lines)


@register.simple_tag
def timeline_rows(events: Iterable[TimelineEvent]) -> SafeString:
    """The timeline table's rows, oldest first."""
    zone = timezone.get_current_timezone()
    rows, kinds = [], []
    for event in events:
        day = _ymd(event["date"])
        kinds.append(f' data-kind="{escape(event["kind"])}"')
        rows.append(
            [
                _td("Date", f'<time datetime="{day}">{day}</time>', NO_WRAP),
                _td("Event", escape(event["summary"])),
                _td("Source", escape(event["source_system"]), NO_WRAP),
                _td("As of", _ymd_hm(event["as_of"], zone), NO_WRAP),
            ]
        )
    return _rows(rows, kinds)


@register.simple_tag
def charge_rows(charges: Iterable[Charge]) -> SafeString:
    """A case's charges as table rows, or the row saying there are none."""
    rows = []
    for charge in charges:
        disposed = f" ({_ymd(charge.disposition_date)})" if charge.disposition_date else ""
        rows.append(
            [
                _td("#", _text(charge.sequence)),
                _td("Statute", _text(charge.statute, "")),
                _td("Description", _text(charge.description)),
                _td("Class", _text(_label(Charge, "charge_class", charge.charge_class))),
                _td("Counts", _text(charge.counts)),
                _td("Plea", _text(charge.plea)),
                _td("Disposition", _text(charge.disposition, "Pending") + disposed),
            ]
        )
    if not rows:
        return mark_safe('<tr><td colspan="7">No charges recorded.</td></tr>')
    return _rows(rows)


@register.simple_tag
def custody_rows(periods: Iterable[CustodyPeriod]) -> SafeString:
    """Custody periods as table rows."""
    zone = timezone.get_current_timezone()
    rows = []
    for period in periods:
        admitted = _ymd(period.admitted_on) + _in_brackets(period.admission_type)
        if period.released_on:
            released = _ymd(period.released_on) + _in_brackets(period.release_type)
        else:
            released = "<strong>In custody</strong>"
        status = _label(CustodyPeriod, "custody_status", period.custody_status)
        rows.append(
            [
                _td("Facility", _text(period.facility, "")),
                _td("Inmate number", _text(period.inmate_number)),
                _td("Status", _text(status, "")),
                _td("Admitted", admitted),
                _td("Released", released),
                _td("Source", _provenance(period, zone)),
            ]
        )
    return _rows(rows)


@register.simple_tag
def infraction_rows(infractions: Iterable[Infraction]) -> SafeString:
    """Infraction tickets as table rows."""
    rows = []
    for infraction in infractions:
        amount = infraction.amount
        rows.append(
            [
                _td("Ticket", _text(infraction.ticket_number, "")),
                _td("Offense date", _ymd(infraction.offense_date)),
                _td("Statute", _text(infraction.statute)),
                _td("Description", _text(infraction.description)),
                _td("Amount", "—" if amount is None else f"${_text(formats.localize(amount))}"),
                _td("Status", _text(infraction.status)),
            ]
        )
    return _rows(rows)


@register.simple_tag
def sentence_boxes(sentences: Iterable[SentenceView]) -> SafeString:
    """Each sentence as a summary box: its dates, how it runs, the calculation steps the
    reader may see and where it came from; or the line saying there are none."""
    zone = timezone.get_current_timezone()
    boxes = []
    for item in sentences:
        sentence = item.sentence
        case = f" · {escape(sentence.case.reference)}" if sentence.case else ""
        dates = [
            ("Starts", _ymd(sentence.starts_on) or "—"),
            ("Maximum release date", _ymd(sentence.max_release_on) or "Nothing to serve"),
        ]
        if sentence.supervision_ends_on:
            dates.append(("Supervision ends", _ymd(sentence.supervision_ends_on)))
        runs = escape(_label(Sentence, "relation", sentence.relation))
        if item.follows:
            runs += f" to the sentence of {_ymd(item.follows.imposed_on)}"
        dates.append(("Runs", runs))
        terms = "".join(f"<dt>{term}</dt><dd>{value}</dd>" for term, value in dates)
        if item.steps:
            steps = f'<ol class="usa-list obts-steps">{_list_items(item.steps)}</ol>'
        else:
            steps = "<p>Not calculated yet.</p>"
        boxes.append(
            f'<div class="usa-summary-box margin-bottom-2" data-sentence="{sentence.public_id}">'
            '<div class="usa-summary-box__body">'
            '<h3 class="usa-summary-box__heading">'
            f"Sentence imposed {_ymd(sentence.imposed_on)}{case}</h3>"
            '<div class="usa-summary-box__text">'
            f'<dl class="portal-dl">{terms}</dl>'
            '<h4 class="margin-bottom-05">How the dates were computed</h4>'
            f"{steps}{_provenance(sentence, zone)}</div></div></div>"
        )
    if not boxes:
        return mark_safe("<p>No sentences.</p>")
    # Built from escaped values only.
    return mark_safe("\n".join(boxes))  # noqa: S308


CHARGE_HEADINGS = "".join(
    f'<th scope="col">{heading}</th>'
    for heading in ("#", "Statute", "Description", "Class", "Counts", "Plea", "Disposition")
)


@register.simple_tag
def case_boxes(cases: Iterable[Case]) -> SafeString:
    """Each case as a summary box: reference, court and status, its dates, bail and
    release conditions, its charges and where it came from; or the line saying there
    are none. The charges come from each case's prefetched ``charges``."""
    zone = timezone.get_current_timezone()
    boxes = []
    for case in cases:
        reference = str(case.reference)
        court = f" · {escape(case.court_code)}" if case.court_code else ""
        status = escape(_label(Case, "status", case.status))
        by = f" by {escape(case.arresting_agency_ori)}" if case.arresting_agency_ori else ""
        dates = (
            f"<p>Arrested {_ymd(case.arrest_date) or '—'}{by}"
            f" · arraigned {_ymd(case.arraignment_date) or '—'}"
            f" · next court date {_ymd(case.next_court_date) or '—'}</p>"
        )
        bail = ""
        if case.bail_amount is not None or case.release_conditions:
            amount = (
                f"${_text(formats.localize(case.bail_amount))}"
                if case.bail_amount is not None
                else "none set"
            )
            conditions = (
                f" · Release conditions: {escape(case.release_conditions)}"
                if case.release_conditions
                else ""
            )
            bail = f"<p>Bail {amount}{conditions}</p>"
        boxes.append(
            f'<div class="usa-summary-box margin-bottom-2" data-case="{case.public_id}">'
            '<div class="usa-summary-box__body">'
            f'<h3 class="usa-summary-box__heading">{escape(capfirst(reference))}{court}'
            f" · {status}</h3>"
            f'<div class="usa-summary-box__text">{dates}{bail}'
            '<table class="usa-table usa-table--borderless usa-table--compact '
            'usa-table--stacked">'
            f'<caption class="usa-sr-only">Charges on {escape(reference)}</caption>'
            f"<thead><tr>{CHARGE_HEADINGS}</tr></thead>"
            f"<tbody>{charge_rows(case.charges.all())}</tbody></table>"
            f"{_provenance(case, zone)}</div></div></div>"
        )
    if not boxes:
        return mark_safe("<p>No cases.</p>")
    # Built from escaped values only.
    return mark_safe("\n".join(boxes))  # noqa: S308


def _violation(entry: Any, key: str) -> str:
    """A violation's field as the template's ``{{ violation.key }}`` wrote it: the value
    as text, empty when the entry lacks it."""
    if isinstance(entry, dict):
        return escape(str(entry[key])) if key in entry else ""
    return ""


@register.simple_tag
def supervision_rows(supervisions: Iterable[Supervision]) -> SafeString:
    """Probation and parole terms as table rows, with their violations."""
    rows = []
    for supervision in supervisions:
        office = f", {escape(supervision.office)}" if supervision.office else ""
        violations = "<br>".join(
            f"{_violation(entry, 'date')}: {_violation(entry, 'description')}"
            + (f" — {_violation(entry, 'outcome')}" if _violation(entry, "outcome") else "")
            for entry in supervision.violations or []
        )
        rows.append(
            [
                _td("Kind", _text(_label(Supervision, "kind", supervision.kind), "")),
                _td("Status", _text(_label(Supervision, "status", supervision.status), "")),
                _td("Officer", _text(supervision.officer_name) + office),
                _td("From", _ymd(supervision.start_date)),
                _td("To", _ymd(supervision.end_date) or "—"),
                _td("Conditions", _text(supervision.conditions)),
                _td("Violations", violations or "None"),
            ]
        )
    return _rows(rows)


def _kind_and_number(kind: str, number: str) -> str:
    """An order's or a warrant's kind, capitalised, then its number when it has one."""
    return escape(capfirst(str(kind))) + (f" {escape(number)}" if number else "")


@register.simple_tag
def order_rows(orders: Iterable[ProtectiveOrder]) -> SafeString:
    """Protective and restraining orders as table rows."""
    rows = []
    for order in orders:
        rows.append(
            [
                _td("Kind", _kind_and_number(order.kind, order.order_number)),
                _td("Status", _text(_label(ProtectiveOrder, "status", order.status), "")),
                _td("Issued", _ymd(order.issued_on)),
                _td("Expires", _ymd(order.expires_on) or "No expiry"),
                _td("Court", _text(order.issuing_court)),
                _td("Protected party", _text(order.protected_party)),
                _td("Conditions", _text(order.conditions)),
            ]
        )
    return _rows(rows)


@register.simple_tag
def warrant_rows(warrants: Iterable[Warrant]) -> SafeString:
    """Warrants as table rows, an active one's status in bold."""
    rows = []
    for warrant in warrants:
        if warrant.status == "active":
            status = '<strong class="text-secondary-dark">Active</strong>'
        else:
            status = _text(_label(Warrant, "status", warrant.status), "")
        if warrant.served_on:
            ended = f"Served {_ymd(warrant.served_on)}"
        elif warrant.vacated_on:
            ended = f"Vacated {_ymd(warrant.vacated_on)}"
        else:
            ended = "—"
        rows.append(
            [
                _td("Kind", _kind_and_number(warrant.kind, warrant.warrant_number)),
                _td("Status", status),
                _td("Issued", _ymd(warrant.issued_on)),
                _td("Court", _text(warrant.court)),
                _td("Offense", _text(warrant.offense)),
                _td("Served or vacated", ended),
            ]
        )
    return _rows(rows)
