# ruff: noqa: E501  (the reference markup is kept as the templates had it)
"""The record page's repeated rows (``obts.templatetags.records``) are written in Python
for speed; they must say exactly what the template markup they replaced said, with every
value escaped. Each test renders the same records both ways and compares them."""

import html
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from obts.access import SentenceView
from obts.models import Charge, CustodyStatus
from obts.selectors import TimelineEvent
from obts.templatetags import records
from tests.obts.factories_records import (
    CaseFactory,
    ChargeFactory,
    CustodyFactory,
    InfractionFactory,
    PersonFactory,
    ProtectiveOrderFactory,
    SentenceFactory,
    SupervisionFactory,
    WarrantFactory,
)

pytestmark = pytest.mark.django_db

NASTY = '<b>"Tom & Jerry\'s"</b>'

# The markup the tags replaced, as the template engine wrote it.
TIMELINE = """{% load dates %}{% for event in timeline %}
<tr data-kind="{{ event.kind }}">
  <td data-label="Date" class="text-no-wrap"><time datetime="{{ event.date|ymd }}">{{ event.date|ymd }}</time></td>
  <td data-label="Event">{{ event.summary }}</td>
  <td data-label="Source" class="text-no-wrap">{{ event.source_system }}</td>
  <td data-label="As of" class="text-no-wrap">{{ event.as_of|ymd_hm }}</td>
</tr>{% endfor %}"""

CHARGES = """{% load dates %}{% for charge in charges %}
<tr>
  <td data-label="#">{{ charge.sequence }}</td>
  <td data-label="Statute">{{ charge.statute }}</td>
  <td data-label="Description">{{ charge.description|default:"—" }}</td>
  <td data-label="Class">{{ charge.get_charge_class_display|default:"—" }}</td>
  <td data-label="Counts">{{ charge.counts }}</td>
  <td data-label="Plea">{{ charge.plea|default:"—" }}</td>
  <td data-label="Disposition">{{ charge.disposition|default:"Pending" }}{% if charge.disposition_date %} ({{ charge.disposition_date|ymd }}){% endif %}</td>
</tr>{% empty %}<tr><td colspan="7">No charges recorded.</td></tr>{% endfor %}"""

PROVENANCE = """{% load dates %}<span class="usa-hint font-body-3xs">{{ item.source_system }} {{ item.source_id }}, as of {{ item.as_of|ymd_hm }}</span>"""

CUSTODY = (
    """{% load dates %}{% for period in periods %}
<tr>
  <td data-label="Facility">{{ period.facility }}</td>
  <td data-label="Inmate number">{{ period.inmate_number|default:"—" }}</td>
  <td data-label="Status">{{ period.get_custody_status_display }}</td>
  <td data-label="Admitted">{{ period.admitted_on|ymd }}{% if period.admission_type %} ({{ period.admission_type }}){% endif %}</td>
  <td data-label="Released">{% if period.released_on %}{{ period.released_on|ymd }}{% if period.release_type %} ({{ period.release_type }}){% endif %}{% else %}<strong>In custody</strong>{% endif %}</td>
  <td data-label="Source">{% with item=period %}"""
    + PROVENANCE.removeprefix("{% load dates %}")
    + """{% endwith %}</td>
</tr>{% endfor %}"""
)

SENTENCES = """{% load dates records %}{% for item in sentences %}{% with sentence=item.sentence %}
<div class="usa-summary-box margin-bottom-2" data-sentence="{{ sentence.public_id }}">
  <div class="usa-summary-box__body">
    <h3 class="usa-summary-box__heading">Sentence imposed {{ sentence.imposed_on|ymd }}{% if sentence.case %} · {{ sentence.case.reference }}{% endif %}</h3>
    <div class="usa-summary-box__text">
      <dl class="portal-dl">
        <dt>Starts</dt><dd>{{ sentence.starts_on|ymd|default:"—" }}</dd>
        <dt>Maximum release date</dt><dd>{{ sentence.max_release_on|ymd|default:"Nothing to serve" }}</dd>
        {% if sentence.supervision_ends_on %}<dt>Supervision ends</dt><dd>{{ sentence.supervision_ends_on|ymd }}</dd>{% endif %}
        <dt>Runs</dt><dd>{{ sentence.get_relation_display }}{% if item.follows %} to the sentence of {{ item.follows.imposed_on|ymd }}{% endif %}</dd>
      </dl>
      <h4 class="margin-bottom-05">How the dates were computed</h4>
      {% if item.steps %}
      <ol class="usa-list obts-steps">{% for step in item.steps %}<li>{{ step }}</li>{% endfor %}</ol>
      {% else %}
      <p>Not calculated yet.</p>
      {% endif %}
      {{ sentence|provenance }}
    </div>
  </div>
</div>
{% endwith %}{% empty %}
<p>No sentences.</p>
{% endfor %}"""

INFRACTIONS = """{% load dates %}{% for infraction in infractions %}
<tr>
  <td data-label="Ticket">{{ infraction.ticket_number }}</td>
  <td data-label="Offense date">{{ infraction.offense_date|ymd }}</td>
  <td data-label="Statute">{{ infraction.statute|default:"—" }}</td>
  <td data-label="Description">{{ infraction.description|default:"—" }}</td>
  <td data-label="Amount">{% if infraction.amount is not None %}${{ infraction.amount }}{% else %}—{% endif %}</td>
  <td data-label="Status">{{ infraction.status|default:"—" }}</td>
</tr>{% endfor %}"""

CASES = (
    """{% load dates records %}{% for case in cases %}
  <div class="usa-summary-box margin-bottom-2" data-case="{{ case.public_id }}">
    <div class="usa-summary-box__body">
      <h3 class="usa-summary-box__heading">{{ case.reference|capfirst }}{% if case.court_code %} · {{ case.court_code }}{% endif %} · {{ case.get_status_display }}</h3>
      <div class="usa-summary-box__text">
        <p>Arrested {{ case.arrest_date|ymd|default:"—" }}{% if case.arresting_agency_ori %} by {{ case.arresting_agency_ori }}{% endif %} · arraigned {{ case.arraignment_date|ymd|default:"—" }} · next court date {{ case.next_court_date|ymd|default:"—" }}</p>
        {% if case.bail_amount is not None or case.release_conditions %}<p>Bail {% if case.bail_amount is not None %}${{ case.bail_amount }}{% else %}none set{% endif %}{% if case.release_conditions %} · Release conditions: {{ case.release_conditions }}{% endif %}</p>{% endif %}
        <table class="usa-table usa-table--borderless usa-table--compact usa-table--stacked">
          <caption class="usa-sr-only">Charges on {{ case.reference }}</caption>
          <thead><tr><th scope="col">#</th><th scope="col">Statute</th><th scope="col">Description</th><th scope="col">Class</th><th scope="col">Counts</th><th scope="col">Plea</th><th scope="col">Disposition</th></tr></thead>
          <tbody>
          {% with charges=case.charges.all %}"""
    + CHARGES.removeprefix("{% load dates %}")
    + """{% endwith %}
          </tbody>
        </table>
        {{ case|provenance }}
      </div>
    </div>
  </div>
  {% empty %}
  <p>No cases.</p>
  {% endfor %}"""
)

SUPERVISIONS = """{% load dates %}{% for supervision in supervisions %}
    <tr>
      <td data-label="Kind">{{ supervision.get_kind_display }}</td>
      <td data-label="Status">{{ supervision.get_status_display }}</td>
      <td data-label="Officer">{{ supervision.officer_name|default:"—" }}{% if supervision.office %}, {{ supervision.office }}{% endif %}</td>
      <td data-label="From">{{ supervision.start_date|ymd }}</td>
      <td data-label="To">{{ supervision.end_date|ymd|default:"—" }}</td>
      <td data-label="Conditions">{{ supervision.conditions|default:"—" }}</td>
      <td data-label="Violations">{% for violation in supervision.violations %}{{ violation.date }}: {{ violation.description }}{% if violation.outcome %} — {{ violation.outcome }}{% endif %}{% if not forloop.last %}<br>{% endif %}{% empty %}None{% endfor %}</td>
    </tr>
    {% endfor %}"""

ORDERS = """{% load dates %}{% for order in orders %}
    <tr>
      <td data-label="Kind">{{ order.kind|capfirst }}{% if order.order_number %} {{ order.order_number }}{% endif %}</td>
      <td data-label="Status">{{ order.get_status_display }}</td>
      <td data-label="Issued">{{ order.issued_on|ymd }}</td>
      <td data-label="Expires">{{ order.expires_on|ymd|default:"No expiry" }}</td>
      <td data-label="Court">{{ order.issuing_court|default:"—" }}</td>
      <td data-label="Protected party">{{ order.protected_party|default:"—" }}</td>
      <td data-label="Conditions">{{ order.conditions|default:"—" }}</td>
    </tr>
    {% endfor %}"""

WARRANTS = """{% load dates %}{% for warrant in warrants %}
    <tr>
      <td data-label="Kind">{{ warrant.kind|capfirst }}{% if warrant.warrant_number %} {{ warrant.warrant_number }}{% endif %}</td>
      <td data-label="Status">{% if warrant.status == "active" %}<strong class="text-secondary-dark">Active</strong>{% else %}{{ warrant.get_status_display }}{% endif %}</td>
      <td data-label="Issued">{{ warrant.issued_on|ymd }}</td>
      <td data-label="Court">{{ warrant.court|default:"—" }}</td>
      <td data-label="Offense">{{ warrant.offense|default:"—" }}</td>
      <td data-label="Served or vacated">{% if warrant.served_on %}Served {{ warrant.served_on|ymd }}{% elif warrant.vacated_on %}Vacated {{ warrant.vacated_on|ymd }}{% else %}—{% endif %}</td>
    </tr>
    {% endfor %}"""


def squeezed(html: str) -> str:
    """Markup without the whitespace between tags, which no browser shows."""
    return re.sub(r">\s+<", "><", html.strip())


def both(reference: str, fast: str, **context: object) -> tuple[str, str]:
    expected = Template(reference).render(Context(context))
    got = Template("{% load records %}" + fast).render(Context(context))
    return squeezed(got), squeezed(expected)


def test_timeline_rows_say_what_the_template_said() -> None:
    events: list[TimelineEvent] = [
        {
            "date": date(2025, 1, 2),
            "kind": "arrest",
            "summary": f"Arrested for {NASTY}",
            "source_system": "RMS<1>",
            "as_of": datetime(2025, 1, 3, 4, 5, tzinfo=ZoneInfo("UTC")),
        },
        {
            "date": date(2025, 2, 1),
            "kind": "court_date",
            "summary": "Next court date",
            "source_system": "JUD",
            "as_of": datetime(2025, 2, 1, 23, 30),  # noqa: DTZ001  (naive: shown as stored)
        },
    ]
    with timezone.override(ZoneInfo("America/New_York")):
        got, expected = both(TIMELINE, "{% timeline_rows events %}", timeline=events, events=events)
    assert got == expected
    assert "&lt;b&gt;&quot;Tom &amp; Jerry&#x27;s&quot;&lt;/b&gt;" in got
    assert "2025-01-02 23:05" in got  # 04:05 UTC in New York, the day before


def test_charge_rows_say_what_the_template_said() -> None:
    case = CaseFactory.create()
    ChargeFactory.create(case=case, sequence=1, description=NASTY)
    ChargeFactory.create(
        case=case, sequence=2, description="", plea="", disposition="", disposition_date=None
    )
    ChargeFactory.create(case=case, sequence=3, charge_class="", counts=0)
    charges = list(Charge.objects.filter(case=case).order_by("sequence"))
    got, expected = both(CHARGES, "{% charge_rows charges %}", charges=charges)
    assert got == expected
    assert "Pending" in got
    assert (
        both(CHARGES, "{% charge_rows charges %}", charges=[])
        == ('<tr><td colspan="7">No charges recorded.</td></tr>',) * 2
    )


def test_custody_rows_and_provenance_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    CustodyFactory.create(person=person, facility=NASTY, release_type="Bond", source_id="a&b")
    CustodyFactory.create(
        person=person,
        released_on=None,
        inmate_number="",
        admission_type="",
        custody_status=CustodyStatus.SENTENCED,
    )
    periods = list(person.custody_periods.all())
    got, expected = both(CUSTODY, "{% custody_rows periods %}", periods=periods)
    assert got == expected
    assert "<strong>In custody</strong>" in got
    got, expected = both(PROVENANCE, "{{ item|provenance }}", item=periods[0])
    assert got == expected


def test_infraction_rows_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    InfractionFactory.create(person=person, amount=Decimal("1250.50"), description=NASTY)
    InfractionFactory.create(person=person, amount=None, statute="", status="")
    infractions = list(person.infractions.all())
    got, expected = both(INFRACTIONS, "{% infraction_rows infractions %}", infractions=infractions)
    assert got == expected
    assert "$1250.50" in got


def test_sentence_boxes_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    case = CaseFactory.create(person=person, docket_number="HHD-CR25-<1>")
    first = SentenceFactory.create(
        person=person, case=case, imposed_on=date(2025, 3, 1), incarceration_days=365
    )
    second = SentenceFactory.create(
        person=person,
        case=None,
        imposed_on=date(2025, 4, 1),
        relation="consecutive",
        consecutive_to=first,
        supervision_ends_on=date(2027, 1, 1),
        source_id="S&1",
    )
    views = [
        SentenceView(first, [f"Imposed {NASTY}", "Less jail credit"], None),
        SentenceView(second, [], first),
    ]
    got, expected = both(SENTENCES, "{% sentence_boxes sentences %}", sentences=views)
    assert got == expected
    assert "HHD-CR25-&lt;1&gt;" in got
    assert "<li>Imposed &lt;b&gt;&quot;Tom &amp; Jerry&#x27;s&quot;&lt;/b&gt;</li>" in got
    assert "Not calculated yet." in got
    assert "to the sentence of 2025-03-01" in got
    empty = both(SENTENCES, "{% sentence_boxes sentences %}", sentences=[])
    assert empty == ("<p>No sentences.</p>",) * 2


def test_case_boxes_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    first = CaseFactory.create(
        person=person,
        docket_number="hhd-<cr>",
        bail_amount=Decimal("25000.00"),
        release_conditions=NASTY,
        arraignment_date=date(2025, 2, 2),
        next_court_date=date(2025, 3, 3),
        source_id="c&1",
    )
    ChargeFactory.create(case=first, sequence=1, description=NASTY)
    ChargeFactory.create(case=first, sequence=2)
    CaseFactory.create(
        person=person, court_code="", arresting_agency_ori="", arrest_date=None, status="pending"
    )
    CaseFactory.create(person=person, release_conditions="No contact", bail_amount=None)
    cases = list(person.cases.prefetch_related("charges"))
    got, expected = both(CASES, "{% case_boxes cases %}", cases=cases)
    assert got == expected
    assert "Docket hhd-&lt;cr&gt;" in got
    assert "Bail $25000.00 · Release conditions: &lt;b&gt;" in got
    assert "Bail none set · Release conditions: No contact" in got
    assert "No charges recorded." in got
    assert both(CASES, "{% case_boxes cases %}", cases=[]) == ("<p>No cases.</p>",) * 2


def test_supervision_rows_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    SupervisionFactory.create(
        person=person,
        office=NASTY,
        end_date=date(2026, 1, 1),
        conditions="No alcohol & no contact",
        violations=[
            {"date": "2025-05-01", "description": "Missed <visit>", "outcome": "Warned"},
            {"date": None, "description": "Curfew"},
            {"description": "Undated"},
            "not a record",
        ],
    )
    SupervisionFactory.create(person=person, officer_name="", violations=[])
    supervisions = list(person.supervisions.all())
    got, expected = both(
        SUPERVISIONS, "{% supervision_rows supervisions %}", supervisions=supervisions
    )
    assert got == expected
    assert "2025-05-01: Missed &lt;visit&gt; — Warned<br>None: Curfew<br>" in got
    assert '<td data-label="Violations">None</td>' in got


def test_order_rows_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    ProtectiveOrderFactory.create(
        person=person, kind="restraining", order_number="R<1>", protected_party=NASTY
    )
    ProtectiveOrderFactory.create(
        person=person, kind="", expires_on=date(2026, 2, 2), issuing_court="", conditions="x"
    )
    orders = list(person.protective_orders.all())
    got, expected = both(ORDERS, "{% order_rows orders %}", orders=orders)
    assert got == expected
    assert "Restraining R&lt;1&gt;" in got
    assert "No expiry" in got


def test_warrant_rows_say_what_the_template_said() -> None:
    person = PersonFactory.create()
    WarrantFactory.create(person=person, warrant_number="W&1", status="active")
    WarrantFactory.create(person=person, status="served", served_on=date(2025, 5, 1))
    WarrantFactory.create(
        person=person, kind="bench", status="vacated", vacated_on=date(2025, 6, 1), court=""
    )
    warrants = list(person.warrants.all())
    got, expected = both(WARRANTS, "{% warrant_rows warrants %}", warrants=warrants)
    assert got == expected
    assert '<strong class="text-secondary-dark">Active</strong>' in got
    assert "Served 2025-05-01" in got
    assert "Vacated 2025-06-01" in got


@pytest.mark.parametrize(
    "text",
    ["", "Larceny 6th degree", "a & b", "<script>", "O'Brien", 'say "hi"', "x > y", "&amp;"],
)
def test_the_rows_escape_as_the_standard_library_does(text: str) -> None:
    assert records.escape(text) == html.escape(text)
