"""Labels of the audit actions the OBTS app records (shown to auditors)."""

OBTS_ACTIONS = {
    "obts.person.upserted": "OBTS: person record received from a source system",
    "obts.persons.upserted": "OBTS: person records received from a source system (batch)",
    "obts.record.upserted": "OBTS: record received from a source system feed",
    "obts.records.upserted": "OBTS: records received from a source system feed (batch)",
    "obts.person.merged": "OBTS: two persons merged into one",
    "obts.person.merge_undone": "OBTS: merge of two persons undone",
    "obts.duplicate.dismissed": "OBTS: possible duplicate marked as different people",
    "obts.record.views_listed": "OBTS: who viewed a person record, listed",
}
