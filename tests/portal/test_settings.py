"""Production settings refuse to start unsafe; Celery is configured not to lose or repeat
tasks; responses carry the security headers; health probes answer as documented."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Task
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from cjis.celery import app as celery_app

REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------
# Starting with production settings


def _random_secret() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(60))


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    """A production-like environment: DEBUG off, a real key and host, no services."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        DEBUG="false",
        SECRET_KEY=_random_secret(),
        ALLOWED_HOSTS="portal.example.gov",
        DATA_DIR=str(tmp_path),
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_production_settings(production_env: dict[str, str]) -> None:
    result = _manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_start_needs_no_secret_key(production_env: dict[str, str]) -> None:
    production_env.pop("SECRET_KEY")
    production_env.pop("ALLOWED_HOSTS")
    production_env["DEBUG"] = "true"
    result = _manage(production_env, "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_start_without_secret_key_is_refused(production_env: dict[str, str]) -> None:
    production_env.pop("SECRET_KEY")
    result = _manage(production_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "weak_key",
    [
        "changeme",
        "secret",
        "django-insecure-cjis-portal-development-key-for-debug-mode-only",
        "short-but-random-Xq9",
        "ab" * 40,
    ],
)
def test_production_start_with_weak_secret_key_is_refused(
    production_env: dict[str, str], weak_key: str
) -> None:
    production_env["SECRET_KEY"] = weak_key
    result = _manage(production_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_start_without_allowed_hosts_is_refused(
    production_env: dict[str, str],
) -> None:
    production_env.pop("ALLOWED_HOSTS")
    result = _manage(production_env, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize("hosts", ["*", "portal.example.gov,*"])
def test_production_start_with_wildcard_host_is_refused(
    production_env: dict[str, str], hosts: str
) -> None:
    production_env["ALLOWED_HOSTS"] = hosts
    result = _manage(production_env, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


# ---------------------------------------------------------------------------------------
# Celery


def _project_apps() -> set[str]:
    return {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if (Path(settings.BASE_DIR) / config.name.split(".")[0]).is_dir()
    } | {"cjis"}


def _project_tasks() -> dict[str, Task]:  # type: ignore[type-arg]
    celery_app.loader.import_default_modules()
    return {
        name: task
        for name, task in celery_app.tasks.items()
        if name.split(".")[0] in _project_apps()
    }


def test_project_tasks_are_registered() -> None:
    assert {
        "portal.tasks.disable_inactive_accounts",
        "portal.tasks.expire_temporary_passwords",
        "obts.tasks.recompute_person_status",
        "ciss.tasks.sweep_pending_deliveries",
    } <= set(_project_tasks())


def test_visibility_timeout_exceeds_the_longest_task_delay() -> None:
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > settings.CELERY_MAX_TASK_DELAY


def test_visibility_timeout_exceeds_the_task_time_limit() -> None:
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.parametrize("name", sorted(_project_tasks()))
def test_visibility_timeout_exceeds_every_task_retry_delay(name: str) -> None:
    task = _project_tasks()[name]
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    delays = {
        # Set only on tasks that retry automatically; Celery's own default is 600 s.
        "retry_backoff_max": getattr(
            task, "retry_backoff_max", 600 if getattr(task, "retry_backoff", False) else None
        ),
        "default_retry_delay": task.default_retry_delay,
        "time_limit": task.time_limit,
    }
    too_long = {key: value for key, value in delays.items() if value and value >= timeout}
    assert not too_long, f"{name}: {too_long} reach the visibility timeout of {timeout}s"


def test_tasks_are_acknowledged_only_after_they_finish() -> None:
    assert celery_app.conf.task_acks_late is True


def test_tasks_of_a_lost_worker_go_back_to_the_queue() -> None:
    assert celery_app.conf.task_reject_on_worker_lost is True


def test_workers_take_one_message_at_a_time() -> None:
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_beat_schedules_the_real_periodic_tasks() -> None:
    tasks = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert tasks == {
        "portal.tasks.disable_inactive_accounts",
        "portal.tasks.expire_temporary_passwords",
        "obts.tasks.recompute_person_status",
        "ciss.tasks.sweep_pending_deliveries",
        "ciss.subscription_tasks.send_daily_digests",
        "ciss.subscription_tasks.send_renewal_reminders",
        "ciss.subscription_tasks.end_expired_subscriptions",
        "ciss.batch_tasks.fail_stuck_batch_searches",
    }


@pytest.mark.parametrize("entry", sorted(celery_app.conf.beat_schedule))
def test_beat_entry_names_a_registered_task(entry: str) -> None:
    name = celery_app.conf.beat_schedule[entry]["task"]
    assert name in _project_tasks(), f"beat entry {entry!r} runs unknown task {name!r}"


# ---------------------------------------------------------------------------------------
# Probes


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probe_answers_a_host_name_outside_allowed_hosts(client: Client, path: str) -> None:
    # Load balancers and container probes address the portal by IP or service name.
    response = client.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_other_pages_still_refuse_a_host_outside_allowed_hosts(client: Client) -> None:
    response = client.get(reverse("portal:login"), HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 400


# ---------------------------------------------------------------------------------------
# Security headers


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["portal:login", "api-schema", "api-client"])
def test_responses_carry_security_headers(client: Client, url_name: str) -> None:
    response = client.get(reverse(url_name))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


# ---------------------------------------------------------------------------------------
# Health probes


def test_healthz_answers_ok(client: Client) -> None:
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_ok_when_the_database_answers(client: Client) -> None:
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_broker_when_it_is_down(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"].startswith("broker:")
    assert body["checks"]["database"] == "ok"
