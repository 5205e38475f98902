"""The CISS REST API (``/api/v1/search/...``)."""
