"""List filters of the incident APIs."""

import django_filters

from common.api.filters import CommaChoicesFilter, SaneDateTimeFilter
from incidents.models import AIEvent, DetectionKind, Incident, IncidentKind


class IncidentFilter(django_filters.FilterSet):
    status = CommaChoicesFilter(values=Incident.Status.values, help_text="Comma list, any case.")
    priority = CommaChoicesFilter(values=Incident.Priority.values, help_text="Comma list, any case.")
    kind = CommaChoicesFilter(values=IncidentKind.values, help_text="Comma list, any case.")
    beacon = django_filters.CharFilter(field_name="beacon__beacon_id", max_length=128)
    since = SaneDateTimeFilter(field_name="last_signal_at", lookup_expr="gte",
                                             help_text="Incidents with a signal at or after this time.")

    class Meta:
        model = Incident
        fields = []


class AIEventFilter(django_filters.FilterSet):
    kind = CommaChoicesFilter(values=DetectionKind.values)
    outcome = CommaChoicesFilter(values=AIEvent.Outcome.values)
    beacon = django_filters.CharFilter(field_name="beacon__beacon_id", max_length=128)
    since = SaneDateTimeFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = AIEvent
        fields = []
