"""Roles people hold and the claims (GFIPM-style attributes) that open data categories.

Roles decide which pages and workflows a person reaches; claims decide which categories of
criminal-justice information they may see. Both are granted per user and shown on the
user's profile; claims are granted and revoked through access requests.
"""

from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "Officer"
    COURT_CLERK = "court_clerk", "Court clerk"
    PROSECUTOR = "prosecutor", "Prosecutor"
    PUBLIC_DEFENDER = "public_defender", "Public defender"
    CORRECTIONS = "corrections", "Corrections"
    PAROLE = "parole", "Parole"
    PROBATION = "probation", "Probation"
    AGENCY_MANAGER = "agency_manager", "Agency manager"
    AGENCY_AUTHORIZER = "agency_authorizer", "Agency authorizer (TAC)"
    CJIS_SECURITY = "cjis_security", "CJIS security"
    HELP_DESK = "help_desk", "Help desk"
    TRAINER = "trainer", "Trainer"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"


# Roles whose accounts only an administrator may reset or unlock: a help desk operator
# must not be able to take over an account that holds more power than their own.
PRIVILEGED_ROLES = frozenset({Role.ADMINISTRATOR, Role.CJIS_SECURITY, Role.HELP_DESK})


class Claim(models.TextChoices):
    SWORN_OFFICER = "SwornLawEnforcementOfficerIndicator", "Sworn law enforcement officer"
    CRIMINAL_HISTORY = (
        "CriminalHistoryDataSelfSearchHomePrivilegeIndicator",
        "Criminal history data",
    )
    CFR28_CERTIFIED = "28CFRCertificationIndicator", "28 CFR Part 23 certification"
    NCIC_CERTIFIED = "NCICCertificationIndicator", "NCIC certification"
    SEX_OFFENDER_REGISTRY = (
        "SexOffenderRegistryDataSelfSearchHomePrivilegeIndicator",
        "Sex offender registry data",
    )
    JUVENILE_RECORDS = "JuvenileRecordsDataSelfSearchHomePrivilegeIndicator", "Juvenile records"
    SEALED_RECORDS = "SealedRecordsDataSelfSearchHomePrivilegeIndicator", "Sealed records"
    RECEIVE_ARREST_NOTICES = "ArrestNotificationRecipientIndicator", "Receives arrest notices"
    APPROVE_ACCESS_REQUESTS = "AccessRequestApproverIndicator", "Approves access requests"
    TRIAGE_INCIDENTS = "IncidentTriagePrivilegeIndicator", "Triages help desk incidents"


CLAIM_DESCRIPTIONS: dict[str, str] = {
    Claim.SWORN_OFFICER: "Holds a sworn law enforcement commission.",
    Claim.CRIMINAL_HISTORY: "May search and read criminal history record information.",
    Claim.CFR28_CERTIFIED: "Trained in 28 CFR Part 23 (criminal intelligence systems).",
    Claim.NCIC_CERTIFIED: "Holds a current NCIC certification.",
    Claim.SEX_OFFENDER_REGISTRY: "May read sex offender registration records.",
    Claim.JUVENILE_RECORDS: "May read records of juvenile matters.",
    Claim.SEALED_RECORDS: "May read sealed and erased records.",
    Claim.RECEIVE_ARREST_NOTICES: "Receives arrest notices routed to the agency.",
    Claim.APPROVE_ACCESS_REQUESTS: "May approve user access requests for the agency.",
    Claim.TRIAGE_INCIDENTS: "May triage and assign help desk incidents.",
}
