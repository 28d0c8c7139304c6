from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from webhooks.api.schema import ErrorSerializer
from webhooks.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    PortalLinkSerializer,
)
from webhooks.services import PortalLinkRefused, api_token_create, portal_link_create


class ApiTokenListView(APIView):
    """The caller's own API tokens; a new token is shown once, in the create response."""

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request):
        tokens = request.user.api_tokens.order_by("-created_at")
        return Response(ApiTokenSerializer(tokens, many=True).data)

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request):
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw_token = api_token_create(
            user=request.user, name=serializer.validated_data["name"]
        )
        token.token = raw_token
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        get_object_or_404(request.user.api_tokens, pk=pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PortalLinkCreateView(APIView):
    @extend_schema(
        request=None,
        responses={
            201: PortalLinkSerializer,
            403: OpenApiResponse(
                ErrorSerializer,
                description="A staff account, or a session without a valid CSRF token.",
            ),
        },
        description=(
            "A short-lived (15 min), single-use URL that logs your own account into the "
            "portal, to link a customer straight in. Not for staff accounts (403)."
        ),
    )
    def post(self, request):
        try:
            link, raw_token = portal_link_create(user=request.user)
        except PortalLinkRefused as refused:
            raise PermissionDenied(str(refused)) from refused
        url = request.build_absolute_uri(reverse("portal:link", kwargs={"token": raw_token}))
        return Response(
            PortalLinkSerializer({"url": url, "expires_at": link.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )
