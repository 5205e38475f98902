import pytest

from ciss import demo
from ciss.models import Vehicle
from ciss.vehicle_search import parse_query, search_vehicles
from obts import demo as obts_demo


@pytest.mark.django_db
def test_demo_vehicles_load_once_and_neumanns_car_shows_her_flags() -> None:
    obts_demo.seed()
    demo.seed()
    count = Vehicle.objects.count()

    assert "already loaded" in demo.seed()
    assert Vehicle.objects.count() == count > demo.OWNED * 0.9
    (car,) = search_vehicles(parse_query(plate="MKN1985"))
    assert car.owner is not None
    assert car.owner.flags[0] == "wanted"
    (stolen,) = search_vehicles(parse_query(plate="ABCI234"))
    assert stolen.vehicle.stolen
    assert Vehicle.objects.filter(person__isnull=False, registration_expires__isnull=False).exists()
