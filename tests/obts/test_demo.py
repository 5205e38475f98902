import pytest

from obts import demo
from obts.models import Person, PersonName


@pytest.mark.django_db
def test_demo_people_load_once_with_a_wanted_showcase_person() -> None:
    demo.seed()
    count = Person.objects.count()

    assert "already loaded" in demo.seed()
    assert Person.objects.count() == count == demo.POPULATION + 1
    neumann = PersonName.objects.get(first_name="Michaela", last_name="Neumann").person
    assert neumann.flags[:2] == ["wanted", "officer_caution"]
    assert {"protective_order", "recently_arrested", "pending_case", "bail_conditions"} <= set(
        neumann.flags
    )
