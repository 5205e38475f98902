"""Who may open a person's record, and what of it they see. The record page and the API
both go through ``access_person_record``; nothing else decides it.

Roles that open a person record at all (``RECORD_ROLES``): officer, court clerk,
prosecutor, public defender, corrections, parole, probation, auditor, CJIS security and
administrator. Help desk, trainer, agency manager and TAC do not, unless they also hold
one of those roles.

What the record shows, by claim:

- Identifying data (names, aliases with their dates of birth, identifiers, addresses,
  physical description, caution), the **flags** and the **status**: every role above.
  As in CISS, an officer sees ``sex_offender``, ``parole``, ``recently_released``... on
  every record they may open; the records behind a flag may still be hidden.
- Protective orders and warrants: every role above (officer safety; they are not
  criminal history record information).
- Criminal history — cases with charges, sentences, custody, supervision and
  infractions — needs ``Claim.CRIMINAL_HISTORY``. Without it each section is replaced by
  a sentence naming the claim.
- Juvenile cases (``Case.is_juvenile``) also need ``Claim.JUVENILE_RECORDS``, sealed
  cases (``is_sealed``) ``Claim.SEALED_RECORDS``. Without them those cases do not exist
  for the reader: not loaded, not counted, their charges, sentences and timeline entries
  gone, and flags and status computed as if they were absent.
- Registration details need ``Claim.SEX_OFFENDER_REGISTRY``; the flag does not.

API clients: the ``records:read`` scope is the agency's grant of criminal history and
registry data; juvenile and sealed cases are never served through the API (there is no
per-person claim to check for a system), so they stay excluded.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from obts.models import Flag, Person, PersonStatus, Sentence
from obts.selectors import PersonRecord, TimelineEvent, Visibility, person_record, person_timeline
from obts.status import Facts, compute_flags, compute_status
from obts.timecalc import CONSECUTIVE_STEP_PREFIX
from portal import audit
from portal.models import ApiClient, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role

RECORD_ROLES = (
    Role.OFFICER,
    Role.COURT_CLERK,
    Role.PROSECUTOR,
    Role.PUBLIC_DEFENDER,
    Role.CORRECTIONS,
    Role.PAROLE,
    Role.PROBATION,
    Role.AUDITOR,
    Role.CJIS_SECURITY,
    Role.ADMINISTRATOR,
)

API_VISIBILITY = Visibility(criminal_history=True, juvenile=False, sealed=False, registry=True)

RECORD_VIEWED = "obts.record.viewed"
audit.register_actions({RECORD_VIEWED: "OBTS: person record viewed"})


class Purpose(models.TextChoices):
    """Why a record is looked at: asked before every view and kept in the audit log."""

    CRIMINAL_INVESTIGATION = "criminal_investigation", "Criminal investigation"
    TRAFFIC_STOP = "traffic_stop", "Traffic stop"
    COURT_PROCEEDING = "court_proceeding", "Court proceeding"
    CORRECTIONS = "corrections", "Corrections (custody, classification, release)"
    SUPERVISION = "supervision", "Probation or parole supervision"
    CJ_EMPLOYMENT = "cj_employment", "Background check for criminal-justice employment"
    AUDIT = "audit", "Audit"


def purpose_label(value: object) -> str:
    """The words for a purpose code as an audit row holds it; "Not stated" for none or an
    unknown one."""
    try:
        return str(Purpose(str(value)).label)
    except ValueError:
        return "Not stated"


def visibility_for(viewer: User | ApiClient) -> Visibility:
    """What ``viewer`` may see of any person record; PermissionDenied when nothing."""
    if isinstance(viewer, ApiClient):
        if not viewer.has_scopes({ApiScope.RECORDS_READ}):
            raise PermissionDenied("Reading person records needs the records:read scope.")
        return API_VISIBILITY
    if not viewer.has_role(*RECORD_ROLES):
        raise PermissionDenied("Your roles do not include reading person records.")
    history = viewer.has_claim(Claim.CRIMINAL_HISTORY)
    return Visibility(
        criminal_history=history,
        juvenile=history and viewer.has_claim(Claim.JUVENILE_RECORDS),
        sealed=history and viewer.has_claim(Claim.SEALED_RECORDS),
        registry=viewer.has_claim(Claim.SEX_OFFENDER_REGISTRY),
    )


@dataclass(frozen=True)
class SentenceView:
    """A sentence with the calculation steps its reader may see."""

    sentence: Sentence
    steps: list[str]
    follows: Sentence | None


@dataclass
class PersonRecordView:
    """A person's record as one reader may see it."""

    record: PersonRecord
    flags: list[str]
    status: str
    timeline: list[TimelineEvent]

    @property
    def visibility(self) -> Visibility:
        return self.record.visibility

    @property
    def status_label(self) -> str:
        return PersonStatus(self.status).label

    @property
    def sentences(self) -> list[SentenceView]:
        visible = {sentence.pk: sentence for sentence in self.record.sentences}
        return [
            SentenceView(
                sentence=sentence,
                steps=_steps_for(sentence, visible),
                follows=visible.get(sentence.consecutive_to_id or 0),
            )
            for sentence in self.record.sentences
        ]

    def shown(self) -> dict[str, list[str]]:
        """The public ids of the records shown, by kind (for the audit row)."""
        record, visibility = self.record, self.visibility
        kinds: dict[str, list[models.Model]] = {
            "protective_orders": list(record.orders),
            "warrants": list(record.warrants),
        }
        if visibility.criminal_history:
            kinds |= {
                "cases": list(record.cases),
                "sentences": list(record.sentences),
                "custody": list(record.custody),
                "supervision": list(record.supervisions),
                "infractions": list(record.infractions),
            }
        if visibility.registry:
            kinds["registrations"] = list(record.registrations)
        return {
            kind: [str(getattr(row, "public_id", row.pk)) for row in rows]
            for kind, rows in kinds.items()
            if rows
        }


def _steps_for(sentence: Sentence, visible: dict[int, Sentence]) -> list[str]:
    """The stored steps, with the step naming a sentence the reader may not see (a sealed
    or juvenile case's) reduced to the date it gives."""
    target = sentence.consecutive_to_id
    if target is None or target in visible:
        return list(sentence.calculation)
    start = sentence.starts_on.isoformat() if sentence.starts_on else "not computed"
    return [
        f"{CONSECUTIVE_STEP_PREFIX}another sentence not shown to you → starts {start}"
        if step.startswith(CONSECUTIVE_STEP_PREFIX)
        else step
        for step in sentence.calculation
    ]


def access_person_record(
    viewer: User | ApiClient,
    public_id: uuid.UUID,
    *,
    today: date | None = None,
    survivor: tuple[Person, list[uuid.UUID]] | None = None,
) -> PersonRecordView:
    """The record of the person with ``public_id`` (or of the person it was merged into)
    as ``viewer`` may see it. Raises PermissionDenied when the viewer may not open person
    records, Http404 for an unknown id.

    Flags and status are computed from the records the viewer may see, so a hidden sealed
    or juvenile case cannot show through a ``pending_case`` flag.
    """
    visibility = visibility_for(viewer)
    record = person_record(public_id, visibility, survivor=survivor)
    facts = Facts(
        caution=record.person.caution,
        cases=record.cases,
        custody=record.custody,
        supervisions=record.supervisions,
        orders=record.orders,
        warrants=record.warrants,
        registrations=record.registrations,
    )
    today = today or timezone.localdate()
    return PersonRecordView(
        record=record,
        flags=compute_flags(facts, today),
        status=compute_status(facts),
        timeline=person_timeline(record),
    )


def record_viewed(
    view: PersonRecordView,
    *,
    purpose: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    api_client: ApiClient | None = None,
) -> None:
    """Write the audit row of one view of a record: who, why, and which records were
    shown."""
    record = view.record
    shown_viewed(
        record.person,
        shown=view.shown(),
        requested_id=record.requested_id,
        merged_ids=record.merged_ids,
        purpose=purpose,
        request=request,
        actor=actor,
        api_client=api_client,
    )


def shown_viewed(
    person: Person,
    *,
    shown: dict[str, list[str]],
    requested_id: uuid.UUID,
    merged_ids: list[uuid.UUID],
    purpose: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    api_client: ApiClient | None = None,
) -> None:
    """:func:`record_viewed` from its parts (``shown`` as ``PersonRecordView.shown()``
    gives it), for a view served from the record cache."""
    details: dict[str, object] = {"purpose": purpose, "records": shown}
    if merged_ids:
        details["requested_id"] = str(requested_id)
        details["merged_ids"] = [str(value) for value in merged_ids]
    audit.record(
        RECORD_VIEWED,
        actor=actor,
        request=request,
        api_client=api_client,
        target=person,
        details=details,
    )


def flag_label(flag: str) -> str:
    return Flag(flag).label
