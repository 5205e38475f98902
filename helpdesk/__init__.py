"""Help desk tickets (incidents and service requests), categories, SLA clocks, assignment,
reports and service availability."""
