"""JSON request bodies read with the types the OpenAPI schema documents."""

from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError


def _json_type_problem(field, value) -> str | None:
    """Why `value`, as parsed from JSON, is not of the type the schema documents for `field`;
    None when it is, or when the field itself judges it (null, nested serializers, any JSON)."""
    if value is None or isinstance(
        field, serializers.JSONField | serializers.BaseSerializer | serializers.MultipleChoiceField
    ):
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return (
            None
            if isinstance(value, int) and not isinstance(value, bool)
            else "Must be an integer."
        )
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if number else "Must be a number."
    if isinstance(
        field, serializers.CharField | serializers.ChoiceField | serializers.DateTimeField
    ):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return "Must be a list."
        return next(filter(None, (_json_type_problem(field.child, v) for v in value)), None)
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return "Must be an object."
        return next(
            filter(None, (_json_type_problem(field.child, v) for v in value.values())), None
        )
    return None


class JSONTypes:
    """For a serializer that reads request bodies: each value must have the JSON type the
    schema documents. DRF's fields coerce (0 to "0", "5" to 5, "yes" to True), so a body the
    schema calls invalid was taken as valid; forms (the browsable API) are all strings and
    are still read DRF's way."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and (problem := _json_type_problem(field, data[name]))
            }
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)
