"""Labels of the audit actions the OBTS app records (shown to auditors)."""

OBTS_ACTIONS = {
    "obts.person.upserted": "OBTS: person record received from a source system",
    "obts.persons.upserted": "OBTS: person records received from a source system (batch)",
    "obts.record.upserted": "OBTS: record received from a source system feed",
    "obts.records.upserted": "OBTS: records received from a source system feed (batch)",
}
