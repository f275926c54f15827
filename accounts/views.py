"""The auth and user endpoints of API.md: thin views over accounts.services/selectors."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import presence, selectors, services
from accounts.serializers import (
    AuthResultSerializer,
    AvatarUploadSerializer,
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    PasswordConfirmSerializer,
    ProfileUpdateSerializer,
    RecoverSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SecurityPhraseSerializer,
    TokenPairSerializer,
    UserSearchSerializer,
    UserSerializer,
    users_data,
)
from accounts.throttles import AuthRateThrottle, PasswordCheckThrottle
from chatproject.api import avatar_size_check, valid_data
from chatproject.parsers import JSONParser

LOGIN_REFUSED = "No active account found with the given credentials."
NO_CONTENT = OpenApiResponse(description="Done.")


def auth_result(user, tokens: dict) -> dict:
    return {**tokens, "user": MeSerializer(user).data}


class JSONView(APIView):
    parser_classes = (JSONParser,)


class PublicView(JSONView):
    """An endpoint for callers without a token, limited per client address."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthRateThrottle,)

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # keeps a refused login a 401, not a 403


class RegisterView(PublicView):
    @extend_schema(request=RegisterSerializer, responses={201: AuthResultSerializer})
    def post(self, request):
        user = services.user_register(**valid_data(RegisterSerializer, request.data))
        tokens = services.session_start(user=user)
        return Response(auth_result(user, tokens), status=status.HTTP_201_CREATED)


class LoginView(PublicView):
    @extend_schema(request=LoginSerializer, responses={200: AuthResultSerializer})
    def post(self, request):
        data = valid_data(LoginSerializer, request.data)
        try:
            user = services.user_authenticate(login=data["username"], password=data["password"])
        except services.InvalidCredentials:
            raise AuthenticationFailed(LOGIN_REFUSED)
        return Response(auth_result(user, services.session_start(user=user)))


class RefreshView(PublicView):
    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        data = valid_data(RefreshSerializer, request.data)
        try:
            return Response(services.session_refresh(refresh=data["refresh"]))
        except services.SessionError as error:
            raise AuthenticationFailed(str(error))


class LogoutView(JSONView):
    @extend_schema(request=RefreshSerializer, responses={204: NO_CONTENT})
    def post(self, request):
        data = valid_data(RefreshSerializer, request.data)
        try:
            services.session_logout(user=request.user, refresh=data["refresh"])
        except services.SessionError as error:
            raise ValidationError({"refresh": [str(error)]})
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecoverView(PublicView):
    @extend_schema(request=RecoverSerializer, responses={204: NO_CONTENT})
    def post(self, request):
        data = valid_data(RecoverSerializer, request.data)
        services.user_recover(
            login=data["username"],
            security_phrase=data["security_phrase"],
            new_password=data["new_password"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(JSONView):
    throttle_classes = (PasswordCheckThrottle,)

    @extend_schema(request=PasswordChangeSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        data = valid_data(PasswordChangeSerializer, request.data)
        tokens = services.user_change_password(user=request.user, **data)
        return Response(tokens)


class MeView(JSONView):
    def get_throttles(self):
        return [PasswordCheckThrottle()] if self.request.method == "DELETE" else []

    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=ProfileUpdateSerializer, responses={200: MeSerializer})
    def patch(self, request):
        changes = valid_data(ProfileUpdateSerializer, request.data)
        user = services.user_update_profile(user=request.user, changes=changes)
        return Response(MeSerializer(user).data)

    @extend_schema(
        description='Deletes the account. JSON body: {"password": "<current password>"}.',
        responses={204: NO_CONTENT},
    )
    def delete(self, request):
        data = valid_data(PasswordConfirmSerializer, request.data)
        services.user_delete(user=request.user, password=data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecurityPhraseView(JSONView):
    throttle_classes = (PasswordCheckThrottle,)

    @extend_schema(request=SecurityPhraseSerializer, responses={204: NO_CONTENT})
    def put(self, request):
        services.user_set_security_phrase(
            user=request.user, **valid_data(SecurityPhraseSerializer, request.data)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AvatarView(APIView):
    parser_classes = (MultiPartParser,)

    @extend_schema(
        request={"multipart/form-data": AvatarUploadSerializer}, responses={200: MeSerializer}
    )
    def put(self, request):
        avatar_size_check(request)
        upload = valid_data(AvatarUploadSerializer, request.data)["avatar"]
        user = services.user_set_avatar(user=request.user, upload=upload)
        return Response(MeSerializer(user).data)

    @extend_schema(request=None, responses={200: MeSerializer})
    def delete(self, request):
        return Response(MeSerializer(services.user_remove_avatar(user=request.user)).data)


class UserPagination(PageNumberPagination):
    """`page_size` up to 100 (clamped); one that is not a positive integer is a 400."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({"page_size": ["A positive integer is required."]})
        return min(size, self.max_page_size)


class UserListView(generics.ListAPIView):
    serializer_class = UserSerializer
    pagination_class = UserPagination

    @extend_schema(parameters=[UserSearchSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        return self.get_paginated_response(users_data(self.paginate_queryset(self.get_queryset())))

    def get_queryset(self):
        query = UserSearchSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        search = query.validated_data.get("search", "")
        return selectors.user_search(caller=self.request.user, query=search)


class OnlineUserListView(generics.ListAPIView):
    serializer_class = UserSerializer
    pagination_class = UserPagination

    def list(self, request, *args, **kwargs):
        users, online_ids = selectors.user_list_online_contacts(caller=request.user)
        page = self.paginate_queryset(users)
        return self.get_paginated_response(users_data(page, online_ids=online_ids))


class UserDetailView(APIView):
    @extend_schema(responses={200: UserSerializer})
    def get(self, request, user_id):
        return Response(UserSerializer(selectors.user_get_active(user_id=user_id)).data)


class SocketStatsView(APIView):
    """Open sockets and online users over all server processes (staff only)."""

    permission_classes = (IsAdminUser,)

    @extend_schema(
        responses=inline_serializer(
            "SocketStats",
            {"connections": serializers.IntegerField(), "online_users": serializers.IntegerField()},
        )
    )
    def get(self, request):
        return Response(presence.counts())
