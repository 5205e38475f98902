"""Exchanges from police records systems: their schemas, intake, routing, attachments and
delivery to the recipients' inboxes."""

from portal import audit

audit.register_actions(
    {
        "ciss.exchange.received": "CISS: exchange received from a records system",
        "ciss.exchange.delivered": "CISS: exchange delivered to inboxes",
        "ciss.exchange.delivery_failed": "CISS: exchange delivery failed after the last retry",
        "ciss.exchange.attachment_added": "CISS: attachment added to an exchange",
        "ciss.exchange.viewed": "CISS: exchange opened from the inbox",
        "ciss.exchange.attachment_viewed": "CISS: exchange attachment opened",
        "ciss.delivery.acknowledged": "CISS: exchange acknowledged by its recipient",
        "ciss.delivery.retried": "CISS: failed delivery sent again by the help desk",
        "ciss.routing_rule.saved": "CISS: routing rule saved",
        "ciss.routing_rule.deactivated": "CISS: routing rule deactivated",
        "ciss.routing_rule.reactivated": "CISS: routing rule reactivated",
        "ciss.court_location.saved": "CISS: court location saved",
        "ciss.delivery_problems.listed": "CISS: delivery problems listed by the help desk",
    }
)
