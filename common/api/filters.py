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


class SaneDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time whose offset a database can hold (real offsets lie within ±14 h; PostgreSQL refuses
    beyond ±15:59, which would turn a client's typo into a database error)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        offset = parsed.utcoffset() if parsed is not None and parsed.tzinfo is not None else None
        if offset is not None and abs(offset.total_seconds()) > 14 * 3600:
            raise forms.ValidationError("The time zone offset is out of range (at most ±14:00).")
        return parsed


class SaneDateTimeFilter(django_filters.IsoDateTimeFilter):
    """`?since=2026-12-01T10:00:00+05:30`: an ISO 8601 time with a real-world offset."""

    field_class = SaneDateTimeField
