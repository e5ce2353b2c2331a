"""Account routes under /auth/. Each takes an optional trailing slash, so no alias reaches another view."""

from django.urls import re_path

from accounts import apis

urlpatterns = [
    re_path(r"^token/login/?$", apis.LoginApi.as_view(), name="auth-login"),
    re_path(r"^token/logout/?$", apis.LogoutApi.as_view(), name="auth-logout"),
    re_path(r"^users/?$", apis.RegisterApi.as_view(), name="auth-register"),
    re_path(r"^users/me/?$", apis.MeApi.as_view(), name="auth-me"),
]
