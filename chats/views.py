"""The chat endpoints (API.md, Chats): thin, every write through chats.services.

A chat the caller is not in is a 404 on every route: reads go through
`chats.selectors.membership_get`, writes through services that check the same way.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import UserSerializer, users_data
from chatproject.api import avatar_size_check, valid_data
from chats import selectors, services
from chats.models import Chat
from chats.serializers import (
    ChatAvatarSerializer,
    ChatCreateSerializer,
    ChatDetailSerializer,
    ChatPageQuerySerializer,
    ChatPageSerializer,
    ChatSyncSerializer,
    ChatUpdateSerializer,
    MemberRoleSerializer,
    MembersAddSerializer,
    MemberSerializer,
    ReadSerializer,
    chat_detail_data,
    chats_data,
    members_data,
)

NO_CONTENT = {204: None}


def detail_response(request, chat_id, *, status_code: int = status.HTTP_200_OK) -> Response:
    membership = selectors.membership_shown(user=request.user, chat_id=chat_id)
    return Response(chat_detail_data(membership), status=status_code)


class ChatListView(APIView):
    @extend_schema(
        operation_id="chats_list",
        parameters=[ChatPageQuerySerializer],
        responses=ChatPageSerializer,
    )
    def get(self, request):
        query = valid_data(ChatPageQuerySerializer, request.query_params)
        memberships, next_cursor = selectors.chat_page_for_user(user=request.user, **query)
        return Response({"results": chats_data(memberships), "next": next_cursor})

    @extend_schema(
        request=ChatCreateSerializer,
        responses={201: ChatDetailSerializer, 200: ChatDetailSerializer},
        description="201 with a new chat; 200 with the existing direct chat of the pair.",
    )
    def post(self, request):
        data = valid_data(ChatCreateSerializer, request.data)
        if data["type"] == Chat.Type.DIRECT:
            chat, created = services.direct_chat_get_or_create(
                user=request.user, other_user_id=data["user_id"]
            )
        else:
            chat = services.group_create(
                creator=request.user,
                name=data["name"],
                description=data.get("description", ""),
                member_ids=data.get("member_ids", []),
            )
            created = True
        return detail_response(
            request, chat.pk, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ChatSyncView(APIView):
    @extend_schema(responses=ChatSyncSerializer(many=True))
    def get(self, request):
        return Response(selectors.chat_sync_for_user(user=request.user))


class ChatDetailView(APIView):
    @extend_schema(responses=ChatDetailSerializer)
    def get(self, request, chat_id):
        return detail_response(request, chat_id)

    @extend_schema(request=ChatUpdateSerializer, responses=ChatDetailSerializer)
    def patch(self, request, chat_id):
        data = valid_data(ChatUpdateSerializer, request.data)
        services.chat_update(chat_id=chat_id, actor=request.user, **data)
        return detail_response(request, chat_id)

    @extend_schema(responses=NO_CONTENT)
    def delete(self, request, chat_id):
        services.chat_delete(chat_id=chat_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatAvatarView(APIView):
    parser_classes = (MultiPartParser,)

    @extend_schema(
        request={"multipart/form-data": ChatAvatarSerializer}, responses=ChatDetailSerializer
    )
    def put(self, request, chat_id):
        avatar_size_check(request)
        image = valid_data(ChatAvatarSerializer, request.data)["avatar"]
        services.chat_avatar_set(chat_id=chat_id, actor=request.user, image=image)
        return detail_response(request, chat_id)

    @extend_schema(request=None, responses={200: ChatDetailSerializer})
    def delete(self, request, chat_id):
        services.chat_avatar_delete(chat_id=chat_id, actor=request.user)
        return detail_response(request, chat_id)


class ChatLeaveView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT)
    def post(self, request, chat_id):
        services.chat_leave(chat_id=chat_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatMembersView(APIView):
    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, chat_id):
        members = selectors.group_members_for_member(user=request.user, chat_id=chat_id)
        return Response(members_data(members))

    @extend_schema(
        request=MembersAddSerializer,
        responses=MemberSerializer(many=True),
        description="Adds the users (present members are ignored); answers with all members.",
    )
    def post(self, request, chat_id):
        user_ids = valid_data(MembersAddSerializer, request.data)["user_ids"]
        services.members_add(chat_id=chat_id, actor=request.user, user_ids=user_ids)
        return Response(members_data(selectors.member_list(chat_ids=[chat_id])))


class ChatMemberView(APIView):
    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def patch(self, request, chat_id, user_id):
        role = valid_data(MemberRoleSerializer, request.data)["role"]
        membership = services.member_role_set(
            chat_id=chat_id, actor=request.user, user_id=user_id, role=role
        )
        return Response(members_data([membership])[0])

    @extend_schema(responses=NO_CONTENT)
    def delete(self, request, chat_id, user_id):
        services.member_remove(chat_id=chat_id, actor=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatReadView(APIView):
    @extend_schema(request=ReadSerializer, responses=NO_CONTENT)
    def post(self, request, chat_id):
        seq = valid_data(ReadSerializer, request.data)["seq"]
        services.chat_mark_read(chat_id=chat_id, user=request.user, seq=seq)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatOnlineView(APIView):
    @extend_schema(responses=UserSerializer(many=True))
    def get(self, request, chat_id):
        selectors.membership_get(user=request.user, chat_id=chat_id)
        users = selectors.chat_online_members(chat_id=chat_id)
        return Response(users_data(users, online_ids={str(user.pk) for user in users}))
