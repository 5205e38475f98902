from ciss.models.exchanges import (
    AlertChannel,
    CourtLocation,
    Delivery,
    DeliveryStatus,
    DeliveryTransitionError,
    Exchange,
    ExchangeAttachment,
    ExchangeStatus,
    ExchangeType,
    InboxPreference,
    RoutingRule,
    RoutingTarget,
)
from ciss.models.vehicles import RegistrationStatus, Vehicle

__all__ = [
    "AlertChannel",
    "CourtLocation",
    "Delivery",
    "DeliveryStatus",
    "DeliveryTransitionError",
    "Exchange",
    "ExchangeAttachment",
    "ExchangeStatus",
    "ExchangeType",
    "InboxPreference",
    "RegistrationStatus",
    "RoutingRule",
    "RoutingTarget",
    "Vehicle",
]
