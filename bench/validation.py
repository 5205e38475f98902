"""Time to validate one intake record: the serializer's ``run_validation`` against the
plain path (``obts.services.plain_validation``) that batch intake tries first.

Records are those ``bench/feed_intake.py`` posts (new persons with realistic names,
aliases and an address; warrants; cases with three charges), 1,000 of each, validated
in a loop after a warm-up; the figure is the best of ``--repeat`` rounds, in
microseconds per record. No database is needed::

    .venv/bin/python bench/validation.py
"""

import argparse
import copy
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

RECORDS = 1000


def _best(validate: Callable[[Any], Any], records: list[dict[str, Any]], repeat: int) -> float:
    rounds = []
    for _ in range(repeat):
        copies = copy.deepcopy(records)
        started = time.perf_counter()
        for record in copies:
            validate(record)
        rounds.append(time.perf_counter() - started)
    return min(rounds) / len(records) * 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per path (best kept)")
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from bench import feed_intake
    from bench.support import cpu_calibration_ms
    from obts.services.feeds import feed_kind
    from obts.services.intake import record_validator
    from obts.services.person_schemas import PersonInputSerializer
    from obts.services.plain_validation import plain_validator

    warrants, cases = feed_kind("warrants"), feed_kind("cases")
    if warrants is None or cases is None:
        raise SystemExit("error: the warrants and cases feeds are not defined")
    numbers = range(RECORDS)
    scenarios: list[tuple[str, Any, list[dict[str, Any]]]] = [
        ("persons", PersonInputSerializer, [feed_intake._person(n) for n in numbers]),
        ("warrants", warrants.serializer_class, [feed_intake._warrant(n, 0) for n in numbers]),
        ("cases", cases.serializer_class, [feed_intake._case(n) for n in numbers]),
    ]
    calibration = cpu_calibration_ms()
    print(f"calibration {calibration} ms (bench/support.py: lower is faster)")
    figures: list[dict[str, Any]] = []
    print(f"  {'records':<10} {'serializer us':>14} {'plain path us':>14} {'declined':>9}")
    for name, serializer_class, records in scenarios:
        serializer = record_validator(serializer_class)
        plain = plain_validator(serializer_class)
        if plain is None:
            raise SystemExit(f"error: {name}: the serializer has no plain path")
        declined = sum(plain(record) is None for record in copy.deepcopy(records))
        for record in copy.deepcopy(records[:100]):  # warm-up
            serializer.run_validation(record)
        slow = _best(serializer.run_validation, records, args.repeat)
        fast = _best(plain, records, args.repeat)
        print(f"  {name:<10} {slow:>14.1f} {fast:>14.1f} {declined:>9}")
        figures.append(
            {"records": name, "serializer_us": slow, "plain_us": fast, "declined": declined}
        )
    output = args.output or REPO / "bench" / "results" / "validation.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    report = {"calibration_ms": calibration, "figures": figures}
    output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
