"""Management commands: one clear line per problem and a non-zero exit on bad input;
idempotent where they create things."""

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings as SettingsWrapper

from portal import audit
from portal.demo import DEMO_PASSWORD
from portal.models import Agency, ApiClient, AuditEvent, RoleGrant, User
from portal.roles import Role
from tests.conftest import current_code
from tests.factories import AgencyFactory


class Outcome:
    """What a command printed and how it exited."""

    def __init__(self, stdout: str, stderr: str, exit_code: int) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run(name: str, *args: str) -> Outcome:
    out, err = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
        return Outcome(out.getvalue(), err.getvalue(), code)
    return Outcome(out.getvalue(), err.getvalue(), 0)


# create_agency ----------------------------------------------------------------------------


def create_agency(*args: str) -> Outcome:
    return run("create_agency", *args)


def test_create_agency_creates_it(db: None) -> None:
    result = create_agency(
        "--ori", "ct0001000", "--name", "Andover PD", "--kind", "police", "--town", "Andover"
    )

    assert result.exit_code == 0
    agency = Agency.objects.get(ori="CT0001000")
    assert (agency.name, agency.kind, agency.town) == ("Andover PD", "police", "Andover")
    assert "Created agency CT0001000" in result.stdout


def test_create_agency_again_updates_it(db: None) -> None:
    create_agency("--ori", "CT0001000", "--name", "Andover PD", "--kind", "police")

    result = create_agency(
        "--ori", "CT0001000", "--name", "Andover Police Department", "--kind", "police"
    )

    assert result.exit_code == 0
    assert "Updated agency CT0001000" in result.stdout
    assert Agency.objects.filter(ori="CT0001000").count() == 1
    assert Agency.objects.get(ori="CT0001000").name == "Andover Police Department"


def test_create_agency_is_audited(db: None) -> None:
    create_agency("--ori", "CT0001000", "--name", "Andover PD", "--kind", "police")

    event = AuditEvent.objects.get(action="agency.created")
    assert event.object_id == "CT0001000"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--ori", "12345", "--name", "Andover PD", "--kind", "police"], "ori"),
        (["--ori", "CT0001000", "--name", "   ", "--kind", "police"], "name"),
        (["--ori", "CT0001000", "--name", "Andover PD", "--kind", "sheriff"], "kind"),
    ],
)
def test_create_agency_refuses_bad_input_with_one_line(
    db: None, args: list[str], field: str
) -> None:
    result = create_agency(*args)

    assert result.exit_code != 0
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith(f"error: {field}: ")
    assert not Agency.objects.filter(name="Andover PD").exists()


def test_create_agency_names_every_problem_on_its_own_line(db: None) -> None:
    result = create_agency("--ori", "bad", "--name", "", "--kind", "sheriff")

    assert result.exit_code != 0
    fields = sorted(line.split(":")[1].strip() for line in result.error_lines)
    assert fields == ["kind", "name", "ori"]


def test_create_agency_says_what_a_valid_ori_looks_like(db: None) -> None:
    result = create_agency("--ori", "12345", "--name", "Andover PD", "--kind", "police")

    assert "e.g. CT0001000" in result.stderr


def test_create_agency_leaves_existing_agency_alone_on_bad_input(db: None) -> None:
    create_agency("--ori", "CT0001000", "--name", "Andover PD", "--kind", "police")

    create_agency("--ori", "CT0001000", "--name", "Andover PD", "--kind", "sheriff")

    assert Agency.objects.get(ori="CT0001000").kind == "police"


# create_api_client ------------------------------------------------------------------------


@pytest.fixture
def records_agency(db: None) -> Agency:
    return AgencyFactory.create(ori="CT0006400", name="Hartford Police Department")


def create_api_client(*args: str) -> Outcome:
    return run("create_api_client", *args)


def issued_key(result: Outcome) -> str:
    return result.stdout.rstrip("\n").splitlines()[-1]


def whoami(key: str) -> int:
    response = Client().get(reverse("api-client"), headers={"Authorization": f"Bearer {key}"})
    return response.status_code


def test_create_api_client_prints_the_key_alone_on_the_last_line(records_agency: Agency) -> None:
    result = create_api_client(
        "--ori", "CT0006400", "--name", "Records system", "--scopes", "search:read,records:read"
    )

    assert result.exit_code == 0
    key = issued_key(result)
    assert re.fullmatch(r"\S{20,}", key)


def test_issued_key_authenticates_the_client(records_agency: Agency) -> None:
    result = create_api_client(
        "--ori", "CT0006400", "--name", "Records system", "--scopes", "search:read"
    )

    response = Client().get(
        reverse("api-client"), headers={"Authorization": f"Bearer {issued_key(result)}"}
    )

    assert response.status_code == 200
    assert "Records system" in response.content.decode()


def test_issued_key_is_stored_only_hashed(records_agency: Agency) -> None:
    key = issued_key(
        create_api_client("--ori", "CT0006400", "--name", "Records system", "--scopes", "mni:write")
    )

    client = ApiClient.objects.get(name="Records system")
    assert key not in (client.key_hash, client.key_prefix)
    for row in AuditEvent.objects.values():
        assert all(key not in str(value) for value in row.values())


def test_create_api_client_gives_the_scopes_asked_for(records_agency: Agency) -> None:
    create_api_client(
        "--ori", "CT0006400", "--name", "Records system", "--scopes", "records:read, mni:write"
    )

    assert sorted(ApiClient.objects.get(name="Records system").scopes) == [
        "mni:write",
        "records:read",
    ]


def test_create_api_client_refuses_unknown_ori(db: None) -> None:
    result = create_api_client(
        "--ori", "CT9999999", "--name", "Records system", "--scopes", "search:read"
    )

    assert result.exit_code == 1
    assert result.error_lines == [
        "error: ori: no agency has the ORI 'CT9999999'; create it with create_agency"
    ]
    assert not ApiClient.objects.exists()


def test_create_api_client_refuses_unknown_scope(records_agency: Agency) -> None:
    result = create_api_client(
        "--ori", "CT0006400", "--name", "Records system", "--scopes", "search:read,root"
    )

    assert result.exit_code == 1
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith("error: scopes: Unknown scope(s): root.")
    assert not ApiClient.objects.exists()


def test_create_api_client_names_every_problem(db: None) -> None:
    result = create_api_client("--ori", "CT9999999", "--name", " ", "--scopes", "root")

    assert result.exit_code == 1
    assert [line.split(":")[1].strip() for line in result.error_lines] == [
        "ori",
        "scopes",
        "name",
    ]


def test_create_api_client_prints_no_key_on_error(records_agency: Agency) -> None:
    result = create_api_client("--ori", "CT0006400", "--name", "Records system", "--scopes", "")

    assert result.exit_code == 1
    assert result.stdout == ""


def test_create_api_client_again_replaces_the_key(records_agency: Agency) -> None:
    old = issued_key(
        create_api_client(
            "--ori", "CT0006400", "--name", "Records system", "--scopes", "search:read"
        )
    )

    result = create_api_client(
        "--ori", "CT0006400", "--name", "Records system", "--scopes", "search:read"
    )

    new = issued_key(result)
    assert new != old
    assert whoami(old) == 401
    assert whoami(new) == 200
    assert ApiClient.objects.filter(name="Records system").count() == 1
    assert "the previous key no longer works" in result.stdout


# verify_audit -----------------------------------------------------------------------------


def write_events(count: int) -> None:
    for number in range(count):
        audit.record("agency.updated", username="system", details={"n": number})


def test_verify_audit_reports_an_intact_log(db: None) -> None:
    write_events(3)

    result = run("verify_audit")

    assert result.exit_code == 0
    assert result.stdout.strip() == "Audit log intact: 3 events checked."


def tamper(seq: int) -> None:
    """Change an audit row behind the application's back, as someone with database access
    could (on PostgreSQL that takes switching the append-only trigger off first)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # Run the deferred foreign-key checks now: ALTER TABLE refuses while they wait.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER portal_audit_append_only")
        cursor.execute(
            "UPDATE portal_auditevent SET actor_username = %s WHERE seq = %s", ["mallory", seq]
        )
        if postgres:
            cursor.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER portal_audit_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_verify_audit_names_a_changed_row(db: None) -> None:
    write_events(4)
    tamper(2)
    changed = AuditEvent.objects.get(seq=2)

    result = run("verify_audit")

    assert result.exit_code != 0
    assert f"Audit log broken at event #2 (id {changed.pk})" in result.stderr
    assert "changed after it was written" in result.stderr
    assert "The 1 events before it are intact" in result.stderr


# seed_demo and demo_totp ------------------------------------------------------------------


def counts() -> tuple[int, int, int, int]:
    return (
        Agency.objects.count(),
        User.objects.count(),
        RoleGrant.objects.count(),
        TOTPDevice.objects.count(),
    )


def test_seed_demo_refuses_without_debug(db: None, settings: SettingsWrapper) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="runs only with DEBUG on"):
        call_command("seed_demo", stdout=StringIO())

    assert not User.objects.exists()


def test_seed_demo_gives_every_role_a_user(db: None, settings: SettingsWrapper) -> None:
    settings.DEBUG = True

    call_command("seed_demo", stdout=StringIO())

    held = set(RoleGrant.objects.values_list("role", flat=True))
    assert held == set(Role.values)


def test_seed_demo_twice_creates_nothing_more(db: None, settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    first = counts()

    call_command("seed_demo", stdout=StringIO())

    assert counts() == first
    assert first[0] > 0
    assert first[1] > 0


def test_seed_demo_prints_how_to_sign_in(db: None, settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert DEMO_PASSWORD in out.getvalue()
    assert re.search(r"^officer\s+Officer\s+CT0006400\s+[A-Z2-7]{16,}$", out.getvalue(), re.M)


def test_seeded_demo_user_signs_in_with_the_printed_password(
    client: Client, db: None, settings: SettingsWrapper
) -> None:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())

    response = client.post(
        reverse("portal:login"), {"username": "officer", "password": DEMO_PASSWORD}
    )

    assert response["Location"] == reverse("portal:mfa")


def test_demo_totp_prints_the_current_code(officer: User, settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    device = TOTPDevice.objects.get(user=officer)

    with time_machine.travel(datetime(2026, 3, 2, 8, 0, 7, tzinfo=UTC), tick=False):
        result = run("demo_totp", "officer")
        expected = current_code(device)

    line = re.fullmatch(
        r"officer\s+(\d{3}) (\d{3})\s+\(changes in (\d+) s\)", result.stdout.strip()
    )
    assert line is not None
    assert line.group(1) + line.group(2) == expected
    assert line.group(3) == "23"


def test_demo_totp_refuses_without_debug(officer: User, settings: SettingsWrapper) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="runs only with DEBUG on"):
        call_command("demo_totp", "officer", stdout=StringIO())


def test_demo_totp_refuses_a_user_who_is_not_a_demo_user(
    officer: User, settings: SettingsWrapper
) -> None:
    settings.DEBUG = True

    with pytest.raises(CommandError, match="Not a demo user: someone"):
        call_command("demo_totp", "someone", stdout=StringIO())
