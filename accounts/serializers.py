"""Djoser serializers: self-registration always makes a citizen; `me` shows the role and unit."""

from djoser.serializers import UserCreateSerializer
from rest_framework import serializers

from accounts.models import User


class CitizenCreateSerializer(UserCreateSerializer):
    # Optional: checked when sent, as the NaariKavach app's sign-up sends it (Djoser's retype check).
    re_password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})

    class Meta(UserCreateSerializer.Meta):
        model = User
        fields = ("id", "username", "email", "password", "re_password", "first_name", "last_name", "phone")

    def validate(self, attrs):
        re_password = attrs.pop("re_password", None)
        if re_password is not None and re_password != attrs.get("password"):
            raise serializers.ValidationError({"re_password": ["The two password fields didn't match."]})
        return super().validate(attrs)

    def create(self, validated_data):
        # Whatever the body says, a self-registered account is a plain citizen.
        validated_data.pop("role", None)
        validated_data.pop("unit", None)
        validated_data.update(role=User.Role.CITIZEN, is_staff=False, is_superuser=False)
        return super().create(validated_data)


class UserSerializer(serializers.ModelSerializer):
    unit_number = serializers.CharField(source="unit.unit_number", default=None, read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "email", "first_name", "last_name", "phone", "role", "unit_number")
        read_only_fields = ("id", "username", "role", "unit_number")
