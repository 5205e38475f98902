"""Sign-in as a person does it, in a real browser: system-use notice, password, first
enrolment of an authenticator or a code from it, backup codes, sign-out, lockout and the
idle timeout."""

import base64
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from portal.models import Agency, User
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory, add_totp_device

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOGIN_URL = re.compile(r"/accounts/login/(\?.*)?$")


def totp_code(key: bytes) -> str:
    """The code an authenticator app holding ``key`` shows now."""
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    return f"{totp.token():06d}"


def key_from_text(text: str) -> bytes:
    """The secret from the key as the enrolment page prints it (base32, in groups of 4)."""
    compact = "".join(text.split()).upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


@pytest.fixture
def hartford() -> Agency:
    return AgencyFactory.create(ori="CT0006400", name="Hartford Police Department")


@pytest.fixture
def new_user(hartford: Agency) -> User:
    """A user who has never signed in: no authenticator yet."""
    return UserFactory.create(
        username="jrivera", first_name="Jordan", last_name="Rivera", agency=hartford
    )


@pytest.fixture
def enrolled_user(hartford: Agency) -> User:
    user = UserFactory.create(username="kchen", first_name="Kim", last_name="Chen", agency=hartford)
    add_totp_device(user)
    return user


def submit_password(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in_with_device(page: Page, user: User) -> None:
    submit_password(page, user.username, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/verify/$"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("Verification code").fill(totp_code(device.bin_key))
    page.get_by_role("button", name="Verify").click()


def expect_home_of(page: Page, user: User, live_server: LiveServer) -> None:
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(user.get_full_name())
    assert user.agency is not None
    expect(page.get_by_text(f"{user.agency.name} ({user.agency.ori})").first).to_be_visible()


def test_static_files_load_so_pages_get_the_uswds_look(page: Page) -> None:
    response = page.goto("/static/uswds/css/uswds.min.css")
    assert response is not None
    assert response.ok
    page.goto("/accounts/login/")
    # USWDS styles the banner; unstyled, the section would have the browser's default
    # transparent background.
    banner_background = page.locator(".usa-banner").evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    assert banner_background != "rgba(0, 0, 0, 0)"
    expect(page.locator(".usa-button", has_text="Sign in")).to_have_css(
        "background-color", "rgb(0, 94, 162)"
    )


def test_new_user_enrols_an_authenticator_saves_backup_codes_and_signs_out(
    page: Page, live_server: LiveServer, new_user: User, screenshot_dir: Path
) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="System-use notice")).to_be_visible()
    expect(page.get_by_text("authorized criminal-justice use only").first).to_be_visible()

    submit_password(page, "jrivera", TEST_PASSWORD)

    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/$"))
    expect(page.locator(".portal-qr svg")).to_be_visible()
    key_text = page.locator("#totp-key").inner_text()
    assert len(key_from_text(key_text)) >= 10
    page.screenshot(path=str(screenshot_dir / "enrolment.png"), full_page=True)
    page.get_by_label("Verification code").fill(totp_code(key_from_text(key_text)))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your backup codes")).to_be_visible()
    expect(page.get_by_role("list", name="Backup codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="I have saved my backup codes").click()

    expect_home_of(page, new_user, live_server)
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2F$"))
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_enrolled_user_signs_in_with_a_code_from_their_authenticator(
    page: Page, live_server: LiveServer, enrolled_user: User
) -> None:
    sign_in_with_device(page, enrolled_user)

    expect_home_of(page, enrolled_user, live_server)


def test_wrong_code_is_refused_and_a_right_one_still_works(
    page: Page, live_server: LiveServer, enrolled_user: User
) -> None:
    submit_password(page, enrolled_user.username, TEST_PASSWORD)
    page.get_by_label("Verification code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    expect(page.get_by_label("Verification code")).to_have_attribute("aria-invalid", "true")

    # django-otp refuses any code for 2^(failures-1) seconds after a wrong one.
    page.wait_for_timeout(1100)
    device = TOTPDevice.objects.get(user=enrolled_user)
    page.get_by_label("Verification code").fill(totp_code(device.bin_key))
    page.get_by_role("button", name="Verify").click()

    expect_home_of(page, enrolled_user, live_server)


def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(
    page: Page, enrolled_user: User, settings: SettingsWrapper
) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    locked = page.get_by_role("heading", name="This account is locked")
    for _ in range(4):
        submit_password(page, enrolled_user.username, "not the pass phrase")
        expect(page.get_by_text("The username or password is not right.")).to_be_visible()
        expect(locked).to_have_count(0)

    submit_password(page, enrolled_user.username, "not the pass phrase")
    expect(locked).to_be_visible()
    expect(page.get_by_text("is locked after 5 failed attempts in a row")).to_be_visible()

    submit_password(page, enrolled_user.username, TEST_PASSWORD)
    expect(locked).to_be_visible()
    expect(page).to_have_url(LOGIN_URL)


def test_thirty_idle_minutes_sign_the_user_out(
    page: Page, live_server: LiveServer, enrolled_user: User, settings: SettingsWrapper
) -> None:
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    sign_in_with_device(page, enrolled_user)
    expect_home_of(page, enrolled_user, live_server)

    # time_machine patches the clock of the whole process, the live server's thread too.
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=True):
        page.reload()

        expect(page).to_have_url(LOGIN_URL)
        expect(
            page.get_by_text("You were signed out after 30 minutes without activity.")
        ).to_be_visible()
        page.goto("/")
        expect(page).to_have_url(LOGIN_URL)


def test_on_a_phone_the_menu_offers_sign_out_before_enrolment_is_finished(
    page: Page, new_user: User
) -> None:
    page.set_viewport_size({"width": 400, "height": 800})
    submit_password(page, new_user.username, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/$"))

    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    sign_out.click()

    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_text("You are signed out.")).to_be_visible()
