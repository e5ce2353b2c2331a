"""The account as its owner sees it (`/auth/users/me/`): the role and unit are read-only."""

from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    unit_number = serializers.CharField(source="unit.unit_number", default=None, read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ("id", "username", "email", "first_name", "last_name", "phone", "role", "unit_number")
        read_only_fields = ("id", "username", "role", "unit_number")
