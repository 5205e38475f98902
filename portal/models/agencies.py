import ipaddress
import re

from django.core.exceptions import ValidationError
from django.db import models

ORI_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")


def normalize_ori(value: str) -> str:
    return value.strip().upper()


def validate_ori(value: str) -> None:
    """An ORI is the two-letter state code followed by seven letters or digits."""
    if not ORI_PATTERN.match(value):
        raise ValidationError(
            "%(value)s is not a valid ORI: use the two-letter state code followed by seven "
            "letters or digits, e.g. CT0001000.",
            params={"value": value or "(empty)"},
            code="invalid_ori",
        )


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse one CIDR per line (blank lines and ``#`` comments ignored).

    Raises ValidationError naming every line that is not a network.
    """
    networks = []
    errors = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            errors.append(f"line {number}: {line!r} is not an IP network (e.g. 10.20.0.0/16)")
    if errors:
        raise ValidationError(errors, code="invalid_network")
    return networks


def validate_network_allowlist(value: str) -> None:
    parse_networks(value)


class AgencyKind(models.TextChoices):
    POLICE = "police", "Police department"
    STATE_POLICE = "state_police", "State police"
    COURT = "court", "Court"
    PROSECUTOR = "prosecutor", "State's attorney"
    PUBLIC_DEFENDER = "public_defender", "Public defender"
    CORRECTIONS = "corrections", "Corrections"
    PAROLE = "parole", "Parole"
    PROBATION = "probation", "Probation"
    DMV = "dmv", "Motor vehicles"
    CJIS = "cjis", "CJIS"


class Agency(models.Model):
    """A criminal-justice agency, identified by its ORI."""

    ori = models.CharField("ORI", max_length=9, unique=True, validators=[validate_ori])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AgencyKind.choices)
    town = models.CharField(max_length=100, blank=True)
    network_allowlist = models.TextField(
        "certified networks",
        blank=True,
        validators=[validate_network_allowlist],
        help_text="One CIDR per line, e.g. 10.20.0.0/16. Enforced when the portal turns "
        "agency network checks on.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return f"{self.name} ({self.ori})"

    def allows_address(self, address: str) -> bool:
        """Whether ``address`` lies in one of this agency's certified networks."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        try:
            networks = parse_networks(self.network_allowlist)
        except ValidationError:
            return False
        return any(ip in network for network in networks)
