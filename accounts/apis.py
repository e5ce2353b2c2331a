"""Sign-in, sign-out, registration and `me`: the only account flows the product uses.

Every password check goes through `authenticate()`, whose backend counts it against the client's
budget (accounts.backends); registration, the one anonymous create, has its own throttle.
"""

from django.contrib.auth import authenticate, logout
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import AuthToken
from accounts.serializers import UserSerializer
from common.api.throttling import SettingsScopedThrottle
from common.errors import InvalidInput


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, style={"input_type": "password"})

    class OutputSerializer(serializers.Serializer):
        auth_token = serializers.CharField()

    @extend_schema(operation_id="auth_login", request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None:
            message = "Unable to log in with provided credentials."
            raise InvalidInput(message, fields={"non_field_errors": [message]})
        return Response({"auth_token": services.token_issue(user=user)})

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # Djoser clients (the NaariKavach site) show `non_field_errors` from the top level of a failed login.
        fields = response.data.get("fields") if isinstance(response.data, dict) else None
        if isinstance(fields, dict) and "non_field_errors" in fields:
            response.data["non_field_errors"] = fields["non_field_errors"]
        return response


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_logout", request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            services.token_revoke(token=request.auth)
        else:
            logout(request._request)  # A dashboard session.
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterApi(APIView):
    """Anyone may register; the account is always a plain citizen, whatever the body says."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [SettingsScopedThrottle]
    throttle_scope = "register"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, style={"input_type": "password"})
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
        phone = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
        # Optional: checked when sent, as the NaariKavach app's sign-up sends it (Djoser's retype check).
        re_password = serializers.CharField(max_length=4096, required=False, write_only=True,
                                            style={"input_type": "password"})

        def validate(self, attrs):
            re_password = attrs.pop("re_password", None)
            if re_password is not None and re_password != attrs.get("password"):
                raise serializers.ValidationError({"re_password": ["The two password fields didn't match."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        phone = serializers.CharField()

    @extend_schema(operation_id="auth_register", request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.citizen_register(**data.validated_data)
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_me", responses={200: UserSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(operation_id="auth_me_update", request=UserSerializer, responses={200: UserSerializer})
    def patch(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)
