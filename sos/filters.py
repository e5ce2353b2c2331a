"""List filters of the SOS API."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common.api.filters import CommaChoicesFilter
from common.geo import position_errors
from sos import selectors
from sos.models import SOS


class PointField(forms.CharField):
    """`near=12.97,77.59`: a valid latitude and longitude."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            latitude, longitude = (float(part) for part in value.split(","))
        except ValueError:
            raise forms.ValidationError("Use near=<latitude>,<longitude>.") from None
        errors = position_errors(latitude, longitude)
        if errors:
            raise forms.ValidationError(" ".join(message for messages in errors.values() for message in messages))
        return latitude, longitude


@extend_schema_field(OpenApiTypes.STR)
class PointFilter(django_filters.Filter):
    field_class = PointField

    def filter(self, qs, value):
        return qs  # applied with radius_km in SOSFilter.filter_queryset


class SOSFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("radius_km") is not None and not cleaned.get("near"):
            self.add_error("near", "radius_km needs near=<latitude>,<longitude>.")
        return cleaned


class SOSFilter(django_filters.FilterSet):
    status = CommaChoicesFilter(values=SOS.Status.values, help_text="Comma list, e.g. active,acknowledged.")
    near = PointFilter(help_text="latitude,longitude: sort by distance from here (and give distance_km).")
    radius_km = django_filters.NumberFilter(min_value=0, max_value=20000, method="ignore",
                                            help_text="With near: only alerts within this distance.")

    class Meta:
        model = SOS
        fields = []
        form = SOSFilterForm

    def ignore(self, qs, name, value):
        return qs  # applied with near in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        near = self.form.cleaned_data.get("near")
        if near is None:
            return queryset
        radius_km = self.form.cleaned_data.get("radius_km")
        return selectors.sos_near(queryset, near=near, radius_km=float(radius_km) if radius_km is not None else None)
