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
        "ciss.exchange.sent_viewed": "CISS: sent exchange opened by its sending agency",
        "ciss.inbox.preference_saved": "CISS: inbox alert preference saved",
        "ciss.delivery.acknowledged": "CISS: exchange acknowledged by its recipient",
        "ciss.delivery.retried": "CISS: failed delivery sent again by the help desk",
        "ciss.delivery.alert_resent": "CISS: e-mail alert that failed sent again",
        "ciss.exchange.rerouted": "CISS: exchange nobody received routed again",
        "ciss.routing_rule.saved": "CISS: routing rule saved",
        "ciss.certification.run": "CISS: records system certification checks run",
        "ciss.routing_rule.deactivated": "CISS: routing rule deactivated",
        "ciss.routing_rule.reactivated": "CISS: routing rule reactivated",
        "ciss.court_location.saved": "CISS: court location saved",
        "ciss.delivery_problems.listed": "CISS: delivery problems listed by the help desk",
        "ciss.subscription.followed": "CISS: person, plate or case followed",
        "ciss.subscription.stopped": "CISS: following stopped",
        "ciss.subscription.renewed": "CISS: following renewed",
        "ciss.subscription.cadence_changed": "CISS: e-mail of a following changed",
        "ciss.subscription.reminded": "CISS: followers reminded to renew",
        "ciss.subscription.expired": "CISS: following ended at its expiry",
        "ciss.subscription.alerts_viewed": "CISS: alerts of followed things shown",
    }
)
