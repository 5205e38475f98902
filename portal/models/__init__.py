from portal.models.agencies import Agency, AgencyKind
from portal.models.api_clients import ApiClient, ApiScope
from portal.models.audit import AuditChainHead, AuditEvent
from portal.models.users import ClaimGrant, RoleGrant, User

__all__ = [
    "Agency",
    "AgencyKind",
    "ApiClient",
    "ApiScope",
    "AuditChainHead",
    "AuditEvent",
    "ClaimGrant",
    "RoleGrant",
    "User",
]
