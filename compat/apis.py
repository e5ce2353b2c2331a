"""The NaariKavach clients' SOS reads: one unpaginated array, and the detail with their field names."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.permissions import IsResponder
from common.errors import NotFound
from compat import selectors
from compat.serializers import NaariKavachSOSOutput
from sos.permissions import HasUserOrSOSToken, actor_from_request, require_owner_or_responder


class NaariKavachSOSListApi(APIView):
    """`GET /naarikavach/api/sos/`: open alerts and the recently closed, as a JSON array (responders only)."""

    permission_classes = [IsResponder]

    @extend_schema(responses=NaariKavachSOSOutput(many=True))
    def get(self, request):
        return Response(NaariKavachSOSOutput(selectors.naarikavach_sos_window(), many=True, context={"request": request}).data)


class NaariKavachGetAllSOSApi(NaariKavachSOSListApi):
    """`GET /naarikavach/api/get-all-sos/`: the same window, wrapped as their server answered it."""

    @extend_schema(responses=NaariKavachSOSOutput(many=True))
    def get(self, request):
        rows = NaariKavachSOSOutput(selectors.naarikavach_sos_window(), many=True, context={"request": request}).data
        return Response({"status": "success", "count": len(rows), "data": rows})


class NaariKavachSOSDetailApi(APIView):
    """`GET /naarikavach/api/sos/<id>/`: our detail's fields plus theirs; for responders and its owner."""

    permission_classes = [HasUserOrSOSToken]

    @extend_schema(responses=NaariKavachSOSOutput)
    def get(self, request, sos_id: int):
        sos = selectors.naarikavach_sos_detail(sos_id=sos_id)
        if sos is None:
            raise NotFound("SOS not found")
        require_owner_or_responder(actor_from_request(request), sos)
        return Response(NaariKavachSOSOutput(sos, context={"request": request}).data)
