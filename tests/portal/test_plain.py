"""portal.api.plain gives what DRF's serializers give, for the shapes the API uses."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework import serializers

from portal.api.plain import NotSupported, plain


class Item:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def all(self) -> list["Item"]:
        return list(self.__dict__.get("children", []))


class ChildSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)


class ParentSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id")
    when = serializers.DateTimeField()
    day = serializers.DateField(allow_null=True)
    owner_name = serializers.CharField(source="owner.name", allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    children = ChildSerializer(many=True, source="box.all")
    first = ChildSerializer(allow_null=True)
    shout = serializers.SerializerMethodField()

    def get_shout(self, item: Any) -> str:
        return str(item.tags[0]).upper() if item.tags else ""


def parent(**overrides: Any) -> Item:
    box = Item(children=[Item(name="a", amount=Decimal("1.5")), Item(name="b", amount=None)])
    fields: dict[str, Any] = {
        "public_id": "6f1f3f9e-2b8e-4a51-9d6c-3d0f1c2b7a10",
        "when": datetime.datetime(2026, 11, 20, 19, 3, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 11, 21),
        "owner": Item(name="Jordan"),
        "tags": ["x", 2],
        "box": box,
        "first": Item(name="c", amount=Decimal("3")),
    }
    return Item(**(fields | overrides))


@pytest.mark.parametrize(
    "instance",
    [parent(), parent(owner=None, day=None, first=None, tags=[]), parent(box=Item(children=[]))],
)
def test_the_same_answer_as_the_serializer(instance: Item) -> None:
    assert plain(ParentSerializer)(instance) == ParentSerializer(instance).data


def test_a_serializer_with_its_own_to_representation_is_refused() -> None:
    class Custom(serializers.Serializer[Any]):
        name = serializers.CharField()

        def to_representation(self, instance: Any) -> dict[str, Any]:
            return {"name": "always"}

    with pytest.raises(NotSupported):
        plain(Custom)
