"""``import_persons --source SOURCE FILE`` and ``import_feed KIND FILE`` (CONTRACT §2):
JSON Lines, bad lines reported by number while the rest import, counts, idempotent."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from obts.models import Flag, Person, PersonSource, Warrant
from portal.models import AuditEvent
from tests.obts.factories import SID, create_person, feed_body, person_body

pytestmark = pytest.mark.django_db


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def _run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _persons_file(tmp_path: Path) -> Path:
    good_1 = person_body(source_id="P-1", sid="CT0000001")
    del good_1["source_system"]
    good_3 = person_body(
        source_id="P-3", sid="CT0000003", first_name="Zed", last_name="Quill", dob="1950-01-01"
    )
    del good_3["source_system"]
    return _write(
        tmp_path / "persons.jsonl",
        [good_1, '{"source_id": "P-2", "last_name": ', good_3, {"source_id": "P-4"}],
    )


def test_import_persons_reports_bad_lines_by_number_and_imports_the_rest(
    tmp_path: Path,
) -> None:
    code, out, err = _run("import_persons", "--source", "DPS-MNI", str(_persons_file(tmp_path)))
    assert code == 1
    assert "line 2: not valid JSON" in err
    assert "line 4: last_name: This field is required." in err
    assert "created 2, updated 0, unchanged 0, stale 0, rejected 2" in out
    assert set(PersonSource.objects.values_list("source_system", "source_id")) == {
        ("DPS-MNI", "P-1"),
        ("DPS-MNI", "P-3"),
    }


def test_import_persons_again_changes_nothing(tmp_path: Path) -> None:
    path = _persons_file(tmp_path)
    _run("import_persons", "--source", "DPS-MNI", str(path))
    events = AuditEvent.objects.count()
    _, out, _ = _run("import_persons", "--source", "DPS-MNI", str(path))
    assert "created 0, updated 0, unchanged 2, stale 0, rejected 2" in out
    assert AuditEvent.objects.count() == events
    assert Person.objects.count() == 2


def test_import_persons_of_a_clean_file_exits_zero(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.jsonl", [{"source_id": "P-1", "last_name": "Neumann"}])
    code, out, err = _run("import_persons", "--source", "DPS-MNI", str(path))
    assert (code, err) == (0, "")
    assert "created 1" in out


def test_import_persons_refuses_a_line_of_another_source(tmp_path: Path) -> None:
    line = person_body(source_system="DMV")
    path = _write(tmp_path / "other.jsonl", [line])
    code, _, err = _run("import_persons", "--source", "DPS-MNI", str(path))
    assert code == 1
    assert "line 1: source_system: 'DMV' is not the --source given" in err


def test_import_persons_audit_row_has_no_actor_and_names_the_command(tmp_path: Path) -> None:
    _run("import_persons", "--source", "DPS-MNI", str(_persons_file(tmp_path)))
    event = AuditEvent.objects.get(action="obts.persons.upserted")
    assert (event.actor, event.api_client) == (None, None)
    assert event.details["command"] == "import_persons"
    assert {record["source_id"] for record in event.details["records"]} == {"P-1", "P-3"}


def test_import_persons_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_persons", "--source", "DPS-MNI", str(tmp_path / "nope.jsonl"))


def test_import_persons_rejects_a_line_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"source_id": "P-1", "last_name": "M\xfcller"}\n')
    code, _, err = _run("import_persons", "--source", "DPS-MNI", str(path))
    assert code == 1
    assert "line 1: not UTF-8 text" in err


def test_import_feed_upserts_records_and_reports_bad_lines(tmp_path: Path) -> None:
    create_person()
    path = _write(
        tmp_path / "warrants.jsonl",
        [
            feed_body("warrants", "W-1"),
            feed_body("warrants", "W-2", person={"sid": "CT0000000"}),
            "",
            feed_body("warrants", "W-3", issued_on="2026-02-30"),
        ],
    )
    code, out, err = _run("import_feed", "warrants", str(path))
    assert code == 1
    assert "line 2: person: No person with SID 'CT0000000' is known." in err
    assert "line 4: issued_on:" in err
    assert "created 1, updated 0, unchanged 0, stale 0, rejected 2" in out
    assert list(Warrant.objects.values_list("source_id", flat=True)) == ["W-1"]
    assert Flag.WANTED in Person.objects.get().flags


def test_import_feed_again_changes_nothing(tmp_path: Path) -> None:
    create_person()
    path = _write(tmp_path / "w.jsonl", [feed_body("warrants", f"W-{n}") for n in range(3)])
    _run("import_feed", "warrants", str(path))
    code, out, _ = _run("import_feed", "warrants", str(path))
    assert code == 0
    assert "created 0, updated 0, unchanged 3" in out


def test_import_feed_fills_the_source_system_from_the_option(tmp_path: Path) -> None:
    create_person()
    record = feed_body("warrants")
    del record["source_system"]
    path = _write(tmp_path / "w.jsonl", [record])
    code, _, _ = _run("import_feed", "warrants", str(path), "--source", "JUD-PRAWN")
    assert code == 0
    assert Warrant.objects.get().source_system == "JUD-PRAWN"


def test_import_feed_audit_rows_name_the_command_and_kind(tmp_path: Path) -> None:
    create_person()
    _run("import_feed", "warrants", str(_write(tmp_path / "w.jsonl", [feed_body("warrants")])))
    event = AuditEvent.objects.get(action="obts.record.upserted")
    assert event.actor is None
    assert event.details["command"] == "import_feed warrants"


def test_import_feed_of_an_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.jsonl", [{"person": {"sid": SID}}])
    with pytest.raises(CommandError, match="known kinds: cases"):
        call_command("import_feed", "parking", str(path))


def test_import_feed_reads_more_lines_than_one_batch(tmp_path: Path) -> None:
    create_person()
    records = [feed_body("infractions", f"T-{n}", ticket_number=f"T{n}") for n in range(1203)]
    code, out, _ = _run("import_feed", "infractions", str(_write(tmp_path / "t.jsonl", records)))
    assert code == 0
    assert "created 1203" in out
