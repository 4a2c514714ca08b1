"""Your own API tokens: list them, create one (shown once), revoke one."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from registry.people.models import ApiToken
from registry.people.services import do_create_api_token, do_revoke_api_token
from registry.rest.pagination import RegistryPagination

from .selectors import own_api_tokens


class TokenOut(serializers.ModelSerializer[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]


class NewTokenOut(TokenOut):
    token = serializers.CharField(
        help_text="Shown once: only its hash is kept. Store it like "
        "a password, never in a script or a log."
    )

    class Meta(TokenOut.Meta):
        fields = [*TokenOut.Meta.fields, "token"]


class TokenIn(serializers.Serializer[Any]):
    name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the token is for.",
    )
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, default=365)


class TokenList(generics.ListCreateAPIView[ApiToken]):
    """Your API tokens. POST creates one; it must come from a signed-in browser session, so
    that a leaked token cannot make itself new ones."""

    serializer_class = TokenOut
    pagination_class = RegistryPagination

    def get_queryset(self) -> QuerySet[ApiToken]:
        return own_api_tokens(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(request=TokenIn, responses={201: NewTokenOut})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.auth is not None:
            raise PermissionDenied(
                "Create tokens while signed in to the registry in a browser "
                "session, not with another token."
            )
        given = TokenIn(data=request.data)
        given.is_valid(raise_exception=True)
        api_token, token = do_create_api_token(
            request.user,
            request.user,
            name=given.validated_data["name"],
            expires_in_days=given.validated_data["expires_in_days"],
        )
        body = {**TokenOut(api_token).data, "token": token}
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class TokenDetail(generics.RetrieveDestroyAPIView[ApiToken]):
    """One of your tokens. DELETE revokes it (it stops working at once)."""

    serializer_class = TokenOut

    def get_queryset(self) -> QuerySet[ApiToken]:
        return own_api_tokens(self.request.user)

    @extend_schema(responses={204: OpenApiResponse(description="Revoked.")})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        api_token = self.get_object()
        if api_token.revoked_at is None:
            do_revoke_api_token(request.user, api_token)
        return Response(status=status.HTTP_204_NO_CONTENT)
