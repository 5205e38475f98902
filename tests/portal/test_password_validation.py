"""Password rules: 12 to 128 characters, spaces allowed, no composition rules, and never a
common, breached, repetitive or sequential password, nor one made of the service's name or
the username. Each refusal says why, on the password change page next to the field."""

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from portal.models import User
from tests.factories import TEST_PASSWORD, UserFactory


@pytest.fixture
def member(db: None) -> User:
    return UserFactory.create(
        username="mbradley",
        first_name="Morgan",
        last_name="Bradley",
        email="mbradley@example.test",
    )


def refusal(password: str, user: User) -> list[str]:
    """The reasons given for refusing ``password``; empty when it is accepted."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


def refusal_text(password: str, user: User) -> str:
    return " ".join(refusal(password, user))


# Length -----------------------------------------------------------------------------------


def test_eleven_characters_are_refused_as_too_short(member: User) -> None:
    assert "too short: use at least 12 characters" in refusal_text("tb7#kq2Lm9x", member)


def test_twelve_characters_are_accepted(member: User) -> None:
    assert refusal("tb7#kq2Lm9xZ", member) == []


def test_128_characters_are_accepted(member: User) -> None:
    words = "juniper lantern orchard velvet harbor quietly drifting copper meadow "
    password = (words * 2)[:128]
    assert len(password) == 128

    assert refusal(password, member) == []


def test_129_characters_are_refused_as_too_long(member: User) -> None:
    words = "juniper lantern orchard velvet harbor quietly drifting copper meadow "
    password = (words * 2)[:129]

    assert "too long: use at most 128 characters" in refusal_text(password, member)


# No composition rules ---------------------------------------------------------------------


def test_phrase_with_spaces_is_accepted(member: User) -> None:
    assert refusal("plum tractor velvet 42", member) == []


def test_all_lowercase_phrase_is_accepted(member: User) -> None:
    assert refusal("quietlyorbitingmarmalade", member) == []


# Common and breached passwords ------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Password123456!",
        "letmeinletmein",
        "letmein letmein",
        "correct horse battery staple",
        "Correct Horse Battery Staple",
        "iloveyou2024!",
        "qwerty123456789",
    ],
)
def test_common_or_breached_password_is_refused(member: User, password: str) -> None:
    assert "lists of common or breached passwords" in refusal_text(password, member)


# Repetitive and sequential ----------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "123456789012",
        "abcdefghijkl",
        "lkjihgfedcba",
        "ababababababab",
        "zz zz zz zz zz zz",
    ],
)
def test_repetitive_or_sequential_password_is_refused(member: User, password: str) -> None:
    assert "repeated or sequential run of characters" in refusal_text(password, member)


def test_password_without_letters_is_not_blamed_on_the_service_name(member: User) -> None:
    assert "name of this service" not in refusal_text("123456789012", member)


# The service's name and the username ------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["cjiscjiscjis2024", "CJIS Portal 2024!", "connecticut 2024", "ciss-obts-ciss"]
)
def test_password_made_of_the_service_name_is_refused(member: User, password: str) -> None:
    assert "name of this service or of your username" in refusal_text(password, member)


def test_password_made_of_the_username_is_refused(member: User) -> None:
    assert "name of this service or of your username" in refusal_text(
        "mbradley mbradley 77", member
    )


def test_password_containing_the_service_name_among_other_words_is_accepted(
    member: User,
) -> None:
    assert refusal("cjis night shift at harbor street", member) == []


# Through the password change page ---------------------------------------------------------


@pytest.fixture
def member_client(client: Client, member: User, signed_in: Callable[[User], Client]) -> Client:
    return signed_in(member)


def change_password(client: Client, new: str, confirm: str | None = None) -> str:
    response = client.post(
        reverse("portal:password_change"),
        {
            "current_password": TEST_PASSWORD,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )
    assert response.status_code == 200
    return response.content.decode()


def field_errors(page: str, field: str) -> list[str]:
    return re.findall(rf'<span class="usa-error-message" id="id_{field}-error"[^>]*>([^<]*)<', page)


def test_change_page_shows_the_reason_next_to_the_new_password(member_client: Client) -> None:
    page = change_password(member_client, "short one")

    errors = field_errors(page, "new_password")
    assert any("too short" in error for error in errors)


def test_change_page_marks_the_new_password_field_invalid(member_client: Client) -> None:
    page = change_password(member_client, "letmeinletmein")

    field = re.search(r'<input[^>]*name="new_password"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert "id_new_password-error" in field.group(0)


def test_change_page_gives_every_reason_that_applies(member_client: Client) -> None:
    page = change_password(member_client, "cjis")

    errors = " ".join(field_errors(page, "new_password"))
    assert "too short" in errors
    assert "name of this service" in errors


def test_change_page_shows_mismatch_next_to_the_confirmation(member_client: Client) -> None:
    page = change_password(member_client, "plum tractor velvet 42", "plum tractor velvet 43")

    assert field_errors(page, "confirm_password") == ["The two new passwords are not the same."]


def test_change_page_refuses_a_wrong_current_password(member_client: Client) -> None:
    response = member_client.post(
        reverse("portal:password_change"),
        {
            "current_password": "not my password at all",
            "new_password": "plum tractor velvet 42",
            "confirm_password": "plum tractor velvet 42",
        },
    )

    page = response.content.decode()
    assert field_errors(page, "current_password") == ["Your current password is not right."]


def test_refused_password_is_not_set(member_client: Client, member: User) -> None:
    change_password(member_client, "correct horse battery staple")

    member.refresh_from_db()
    assert member.check_password(TEST_PASSWORD)


def test_change_page_explains_the_rules(member_client: Client) -> None:
    page = member_client.get(reverse("portal:password_change")).content.decode()

    assert "Use 12 to 128 characters. Spaces are allowed" in page


def test_anonymous_cannot_open_the_change_page(client: Client, db: None) -> None:
    response = client.get(reverse("portal:password_change"))

    assert response["Location"].startswith(reverse("portal:login"))
