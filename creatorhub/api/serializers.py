from rest_framework import serializers

MAX_ID = 2**63 - 1  # the largest id a BigAutoField holds, on PostgreSQL and SQLite alike


class ObjectIdField(serializers.IntegerField):
    """An object's id: a whole number from 1 to MAX_ID. A larger number could not even be a query's
    parameter (SQLite raises OverflowError): it is refused like any other wrong value, a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class StrictFieldsMixin:
    """Refuses input fields the serializer does not know, so a typo is a 400, not a silent no-op."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field is not known."] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass
