"""Demo agencies and one user per role, for trying the portal on a laptop.

``seed`` is idempotent: it creates what is missing and puts the demo accounts back into
the state the sign-in instructions describe (demo password, active, unlocked). The ORIs
and people are made up.
"""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from axes.utils import reset as axes_reset
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import services
from portal.models import Agency, AgencyKind, User
from portal.roles import Claim, Role

# Published on purpose: demo accounts exist only with DEBUG on.
DEMO_PASSWORD = "Harbor lights at dusk"  # noqa: S105

AGENCIES: list[tuple[str, str, AgencyKind, str]] = [
    ("CT0006400", "Hartford Police Department", AgencyKind.POLICE, "Hartford"),
    ("CT0009300", "New Haven Police Department", AgencyKind.POLICE, "New Haven"),
    ("CT0001500", "Bridgeport Police Department", AgencyKind.POLICE, "Bridgeport"),
    ("CT0010600", "Orange Police Department", AgencyKind.POLICE, "Orange"),
    ("CT0015900", "Weston Police Department", AgencyKind.POLICE, "Weston"),
    ("CT0013100", "South Windsor Police Department", AgencyKind.POLICE, "South Windsor"),
    ("CTCSP0000", "Connecticut State Police", AgencyKind.STATE_POLICE, "Middletown"),
    ("CT015013J", "Superior Court GA 14, Hartford", AgencyKind.COURT, "Hartford"),
    ("CT009023J", "Superior Court GA 23, New Haven", AgencyKind.COURT, "New Haven"),
    ("CT001002J", "Superior Court GA 2, Bridgeport", AgencyKind.COURT, "Bridgeport"),
    ("CT015000J", "Superior Court, Hartford Judicial District", AgencyKind.COURT, "Hartford"),
    ("CT015011A", "State's Attorney, Hartford", AgencyKind.PROSECUTOR, "Hartford"),
    ("CT009011A", "State's Attorney, New Haven", AgencyKind.PROSECUTOR, "New Haven"),
    ("CTPDS0000", "Division of Public Defender Services", AgencyKind.PUBLIC_DEFENDER, "Hartford"),
    ("CTDOC0000", "Department of Correction", AgencyKind.CORRECTIONS, "Wethersfield"),
    ("CTBOP0000", "Board of Pardons and Paroles", AgencyKind.PAROLE, "Hartford"),
    ("CTCSSD000", "Court Support Services Division", AgencyKind.PROBATION, "Wethersfield"),
    ("CTDMV0000", "Department of Motor Vehicles", AgencyKind.DMV, "Wethersfield"),
    ("CTCJIS000", "Criminal Justice Information System", AgencyKind.CJIS, "Hartford"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    title: str
    ori: str
    role: Role
    claims: tuple[Claim, ...] = ()
    mfa: bool = True
    staff: bool = field(default=False)


USERS: list[DemoUser] = [
    DemoUser(
        "officer",
        "Dana",
        "Reyes",
        "Patrol Officer",
        "CT0006400",
        Role.OFFICER,
        (
            Claim.SWORN_OFFICER,
            Claim.CRIMINAL_HISTORY,
            Claim.NCIC_CERTIFIED,
            Claim.SEX_OFFENDER_REGISTRY,
        ),
    ),
    DemoUser(
        "clerk",
        "Morgan",
        "Lee",
        "Assistant Clerk",
        "CT015013J",
        Role.COURT_CLERK,
        (Claim.CRIMINAL_HISTORY, Claim.RECEIVE_ARREST_NOTICES),
    ),
    DemoUser(
        "prosecutor",
        "Avery",
        "Grant",
        "Assistant State's Attorney",
        "CT015011A",
        Role.PROSECUTOR,
        (
            Claim.CRIMINAL_HISTORY,
            Claim.RECEIVE_ARREST_NOTICES,
            Claim.SEX_OFFENDER_REGISTRY,
            Claim.JUVENILE_RECORDS,
        ),
    ),
    DemoUser(
        "defender",
        "Jordan",
        "Okafor",
        "Public Defender",
        "CTPDS0000",
        Role.PUBLIC_DEFENDER,
        (Claim.CRIMINAL_HISTORY,),
    ),
    DemoUser(
        "corrections",
        "Riley",
        "Novak",
        "Records Specialist",
        "CTDOC0000",
        Role.CORRECTIONS,
        (Claim.CRIMINAL_HISTORY, Claim.RECEIVE_ARREST_NOTICES),
    ),
    DemoUser(
        "parole",
        "Casey",
        "Brennan",
        "Parole Officer",
        "CTBOP0000",
        Role.PAROLE,
        (Claim.CRIMINAL_HISTORY, Claim.SEX_OFFENDER_REGISTRY),
    ),
    DemoUser(
        "probation",
        "Sam",
        "Whitfield",
        "Probation Officer",
        "CTCSSD000",
        Role.PROBATION,
        (Claim.CRIMINAL_HISTORY, Claim.JUVENILE_RECORDS),
    ),
    DemoUser(
        "manager",
        "Pat",
        "Donnelly",
        "Records Supervisor",
        "CT0006400",
        Role.AGENCY_MANAGER,
        (Claim.APPROVE_ACCESS_REQUESTS,),
    ),
    DemoUser(
        "tac",
        "Chris",
        "Marino",
        "Terminal Agency Coordinator",
        "CT0006400",
        Role.AGENCY_AUTHORIZER,
        (Claim.APPROVE_ACCESS_REQUESTS, Claim.NCIC_CERTIFIED),
    ),
    DemoUser(
        "security",
        "Alex",
        "Kowalski",
        "CJIS Security Officer",
        "CTCJIS000",
        Role.CJIS_SECURITY,
        (Claim.APPROVE_ACCESS_REQUESTS,),
    ),
    DemoUser(
        "helpdesk",
        "Jamie",
        "Fontaine",
        "Help Desk Analyst",
        "CTCJIS000",
        Role.HELP_DESK,
        (Claim.TRIAGE_INCIDENTS,),
    ),
    DemoUser("trainer", "Robin", "Castillo", "Public Safety Liaison", "CTCJIS000", Role.TRAINER),
    DemoUser("auditor", "Taylor", "Ng", "Compliance Auditor", "CTCJIS000", Role.AUDITOR),
    DemoUser(
        "admin",
        "Quinn",
        "Hale",
        "Systems Administrator",
        "CTCJIS000",
        Role.ADMINISTRATOR,
        staff=True,
    ),
    DemoUser(
        "trainee",
        "Drew",
        "Santos",
        "Recruit Officer",
        "CT0009300",
        Role.OFFICER,
        (Claim.SWORN_OFFICER,),
        mfa=False,
    ),
]


# Demo data of the other apps: each registers a function (in its AppConfig.ready) that
# loads its part idempotently and says what it did. portal never imports those apps.
SEEDERS: list[Callable[[], str]] = []


def register_seeder(seeder: Callable[[], str]) -> None:
    if seeder not in SEEDERS:
        SEEDERS.append(seeder)


def totp_key_text(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@transaction.atomic
def seed() -> list[tuple[DemoUser, User, TOTPDevice | None]]:
    agencies = {}
    for ori, name, kind, town in AGENCIES:
        existing = Agency.objects.filter(ori=ori).first()
        if existing is None or (existing.name, existing.kind, existing.town) != (name, kind, town):
            existing, _ = services.agency_upsert(ori=ori, name=name, kind=kind, town=town)
        agencies[ori] = existing

    seeded = []
    for spec in USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(username=spec.username)
        user.first_name, user.last_name, user.title = spec.first_name, spec.last_name, spec.title
        user.email = f"{spec.username}@demo.cjis.invalid"
        user.agency = agencies[spec.ori]
        user.is_active = True
        user.disabled_reason = ""
        user.must_change_password = False
        user.temporary_password_expires_at = None
        user.is_staff = user.is_superuser = spec.staff
        if not user.has_usable_password() or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.save()
        axes_reset(username=user.username)
        services.role_grant(actor=None, user=user, role=spec.role)
        for claim in spec.claims:
            services.claim_grant(actor=None, user=user, claim=claim, reason="demo data")

        device = None
        if spec.mfa:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(
                    user=user, name="Demo authenticator app", confirmed=True
                )
        seeded.append((spec, user, device))
    return seeded
