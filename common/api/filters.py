"""Filters shared by the APIs' FilterSets (django-filter; DjangoFilterBackend answers a bad value with a 400)."""

import django_filters
from django import forms


class CommaChoicesField(forms.Field):
    """'critical,HIGH' → ['Critical', 'High']: a comma list, any case, each checked against the allowed values."""

    def __init__(self, *, values: list[str], **kwargs):
        self.values = list(values)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return []
        by_lower = {value.lower(): value for value in self.values}
        items = [item.strip() for item in str(value).split(",") if item.strip()]
        unknown = [item for item in items if item.lower() not in by_lower]
        if unknown:
            raise forms.ValidationError(f"Unknown value {', '.join(unknown)}; use {', '.join(self.values)}.")
        return [by_lower[item.lower()] for item in items]


class CommaChoicesFilter(django_filters.Filter):
    """`?status=active,acknowledged`: rows whose field is any of the listed values."""

    field_class = CommaChoicesField

    def __init__(self, *args, values: list[str], **kwargs):
        super().__init__(*args, values=values, **kwargs)

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__in": value}) if value else qs
