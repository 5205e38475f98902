import hashlib
import hmac
import secrets
import uuid

from django.db import models

from portal.models.agencies import Agency

KEY_PREFIX = "cjis"


class ApiScope(models.TextChoices):
    MNI_WRITE = "mni:write", "Write the master name index"
    FEEDS_WRITE = "feeds:write", "Write source-system record feeds"
    EXCHANGES_SUBMIT = "exchanges:submit", "Submit exchanges from a records system"
    SEARCH_READ = "search:read", "Search persons, vehicles, places, property and events"
    RECORDS_READ = "records:read", "Read whole person records"


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The lookup prefix of a key shaped ``cjis_<prefix>_<secret>``, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def new_key() -> tuple[str, str]:
    """A fresh key and its lookup prefix."""
    prefix = secrets.token_hex(4)
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


class ApiClient(models.Model):
    """A system of one agency that calls the API with a bearer key."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for the portal's default."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="unique_client_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.agency.ori})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scopes(self, required: set[str] | frozenset[str]) -> bool:
        return set(required) <= set(self.scopes)

    def key_matches(self, key: str) -> bool:
        return hmac.compare_digest(hash_key(key), self.key_hash)
