"""Record validation reuses one serializer per thread: what one record was refused for
never reaches the next, and threads never share one."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from obts.services.intake import Submitter, record_validator
from obts.services.person_schemas import PersonInputSerializer
from obts.services.persons import persons_upsert
from tests.obts.factories import person_body

pytestmark = pytest.mark.django_db


def test_a_refused_record_leaves_nothing_for_the_next() -> None:
    submitter = Submitter(command="test")
    (refused,) = persons_upsert([person_body(dob="1985-02-30")], submitter=submitter)
    assert "dob" in refused.errors
    (accepted,) = persons_upsert([person_body()], submitter=submitter)
    assert accepted.errors == {}
    assert accepted.instance is not None


def test_each_thread_has_its_own_validator() -> None:
    here = record_validator(PersonInputSerializer)
    assert record_validator(PersonInputSerializer) is here
    with ThreadPoolExecutor(max_workers=1) as other:
        there = other.submit(record_validator, PersonInputSerializer).result()
    assert there is not here
    assert isinstance(there, PersonInputSerializer)


def test_threads_validating_at_once_get_their_own_answers() -> None:
    validator_of = PersonInputSerializer

    def check(dob: str) -> str:
        try:
            record_validator(validator_of).run_validation(person_body(dob=dob))
        except Exception as error:  # the field errors of a refused date
            return type(error).__name__
        return "valid"

    dobs = ["1985-11-11", "1985-02-30"] * 20
    with ThreadPoolExecutor(max_workers=4) as threads:
        answers = list(threads.map(check, dobs))
    assert answers == ["valid", "ValidationError"] * 20
