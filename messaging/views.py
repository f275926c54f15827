"""The message endpoints: thin views over messaging.services and messaging.selectors."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, Throttled
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from chatproject.api import represent_each, valid_data
from chatproject.parsers import JSONParser
from chatproject.schema import error_response
from chats.selectors import membership_get
from messaging import selectors, services
from messaging.serializers import (
    ChangesQuerySerializer,
    ChangesSerializer,
    EditSerializer,
    HistoryQuerySerializer,
    MessageCreateSerializer,
    MessageSerializer,
    ReactionSerializer,
    ReceiptSerializer,
    ReportCreateSerializer,
    ReportSerializer,
    SearchQuerySerializer,
    messages_data,
    page_of,
)
from messaging.throttles import send_rate_check

MESSAGE_PAGE = page_of(MessageSerializer, "MessagePage")
CONFLICT = error_response(409)


def message_page(messages, has_more: bool) -> Response:
    return Response({"results": messages_data(messages), "has_more": has_more})


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The message was deleted."
    default_code = "conflict"


class MessagingView(APIView):
    """Maps MessageConflict (a ValidationError the services raise) to 409; the project's
    exception handler maps the rest."""

    def handle_exception(self, exc):
        if isinstance(exc, services.MessageConflict):
            exc = Conflict(" ".join(exc.messages))
        return super().handle_exception(exc)


class ChatMessagesView(MessagingView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(parameters=[HistoryQuerySerializer], responses=MESSAGE_PAGE)
    def get(self, request, chat_id):
        query = valid_data(HistoryQuerySerializer, request.query_params)
        membership = membership_get(user=request.user, chat_id=chat_id)
        messages, has_more = selectors.message_history(membership=membership, **query)
        return message_page(messages, has_more)

    @extend_schema(
        request={
            "application/json": MessageCreateSerializer,
            "multipart/form-data": MessageCreateSerializer,
        },
        responses={
            201: MessageSerializer,
            200: MessageSerializer,
            409: CONFLICT,
            429: error_response(429),
        },
    )
    def post(self, request, chat_id):
        retry_after = send_rate_check(request.user)
        if retry_after:
            raise Throttled(wait=retry_after)
        data = valid_data(MessageCreateSerializer, request.data)
        message, created = services.message_send(
            chat_id=chat_id,
            sender=request.user,
            content=data.get("content"),
            client_id=data.get("client_id"),
            reply_to_id=data.get("reply_to"),
            upload=data.get("file"),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(MessageSerializer(message).data, status=code)


class ChatChangesView(MessagingView):
    @extend_schema(parameters=[ChangesQuerySerializer], responses=ChangesSerializer)
    def get(self, request, chat_id):
        query = valid_data(ChangesQuerySerializer, request.query_params)
        membership = membership_get(user=request.user, chat_id=chat_id)
        messages, version, has_more = selectors.message_changes(membership=membership, **query)
        body = {
            "messages": messages_data(messages),
            "version": version,
            "has_more": has_more,
            "cleared_seq": membership.cleared_seq,
        }
        return Response(body)


class MessageDetailView(MessagingView):
    @extend_schema(responses=MessageSerializer)
    def get(self, request, message_id):
        message, _ = selectors.message_get_for_member(user=request.user, message_id=message_id)
        return Response(MessageSerializer(message).data)

    @extend_schema(request=EditSerializer, responses={200: MessageSerializer, 409: CONFLICT})
    def patch(self, request, message_id):
        content = valid_data(EditSerializer, request.data)["content"]
        message = services.message_edit(message_id=message_id, editor=request.user, content=content)
        return Response(MessageSerializer(message).data)

    @extend_schema(responses={204: None})
    def delete(self, request, message_id):
        services.message_delete(message_id=message_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageReactionsView(MessagingView):
    @extend_schema(request=ReactionSerializer, responses={200: MessageSerializer, 409: CONFLICT})
    def post(self, request, message_id):
        emoji = valid_data(ReactionSerializer, request.data)["emoji"]
        message = services.reaction_add(message_id=message_id, user=request.user, emoji=emoji)
        return Response(MessageSerializer(message).data)

    @extend_schema(
        parameters=[ReactionSerializer], responses={200: MessageSerializer, 409: CONFLICT}
    )
    def delete(self, request, message_id):
        emoji = valid_data(ReactionSerializer, request.query_params)["emoji"]
        message = services.reaction_remove(message_id=message_id, user=request.user, emoji=emoji)
        return Response(MessageSerializer(message).data)


class MessageReceiptsView(MessagingView):
    @extend_schema(responses=ReceiptSerializer(many=True))
    def get(self, request, message_id):
        message, _ = selectors.message_get_for_member(user=request.user, message_id=message_id)
        receipts = selectors.message_receipts(message=message)
        return Response(represent_each(ReceiptSerializer(), receipts))


class MessageHistoryView(MessagingView):
    @extend_schema(
        responses=inline_serializer(
            "MessageEdit",
            {"content": serializers.CharField(), "edited_at": serializers.DateTimeField()},
            many=True,
        )
    )
    def get(self, request, message_id):
        message, _ = selectors.message_get_for_member(user=request.user, message_id=message_id)
        edits = message.edits.order_by("edited_at", "id").values("content", "edited_at")
        return Response(list(edits))


class MessageReportView(MessagingView):
    @extend_schema(request=ReportCreateSerializer, responses={201: ReportSerializer, 409: CONFLICT})
    def post(self, request, message_id):
        reason = valid_data(ReportCreateSerializer, request.data)["reason"]
        report = services.report_create(message_id=message_id, reporter=request.user, reason=reason)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class MessageSearchView(MessagingView):
    @extend_schema(
        parameters=[SearchQuerySerializer, OpenApiParameter("q", required=True)],
        responses=MESSAGE_PAGE,
    )
    def get(self, request):
        query = valid_data(SearchQuerySerializer, request.query_params)
        messages, has_more = selectors.message_search(
            user=request.user,
            words=query["q"],
            chat_id=query.get("chat_id"),
            before=query.get("before"),
            limit=query["limit"],
        )
        return message_page(messages, has_more)
