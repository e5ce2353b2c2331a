"""Thin DRF views for response: the escalation board."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.permissions import IsResponder
from response import selectors


class BoardRow(serializers.Serializer):
    status = serializers.CharField()
    status_since = serializers.DateTimeField()
    level = serializers.IntegerField(help_text="0: not escalated.")
    label = serializers.CharField()


class EscalationBoardApi(APIView):
    """Every open SOS and incident with its escalation level and when it entered its status (responders)."""

    permission_classes = [IsResponder]

    class OutputSerializer(serializers.Serializer):
        sos = inline_serializer("BoardSOS", {"sos_id": serializers.IntegerField(), **BoardRow().fields}, many=True)
        incidents = inline_serializer("BoardIncident", {"incident_id": serializers.UUIDField(), **BoardRow().fields},
                                      many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.escalation_board()).data)
