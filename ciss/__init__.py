"""Search across persons, vehicles, locations, property and events; information exchanges
from police records systems, routing, deliveries, inboxes and subscriptions."""
