"""The API base: bearer-key authentication per agency client, scopes, rate limits, JSON
errors."""
