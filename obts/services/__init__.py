"""Intake of the master name index and of source-system record feeds.

- ``persons``: ``persons_upsert`` (``POST /api/v1/persons/``, ``import_persons``);
- ``feeds``: the registry of feed kinds and ``feed_records_upsert``
  (``POST /api/v1/feeds/{kind}/``, ``import_feed``); ``records``: the OBTS kinds;
- ``matching``: ``find_person``, how intake links a new record to a known person.
"""
