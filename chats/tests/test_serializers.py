"""The written-out representation of <chat> against DRF's generic one."""

from rest_framework import serializers

from chatproject.tests.factories import image_bytes, unstamped, upload
from chats.selectors import chat_page_for_user
from chats.serializers import ChatDetailSerializer, ChatSerializer, chats_data
from chats.services import chat_avatar_set, chat_mark_read
from messaging.tests.factories import direct_chat, group_chat, send


def test_every_kind_of_chat_matches_the_declared_fields(alice, bob, charlie, mark_online):
    mark_online(bob)
    group = group_chat(alice, bob, charlie)
    chat_avatar_set(chat_id=group.pk, actor=alice, image=upload(image_bytes()))
    send(group, bob, "hello group")
    chat_mark_read(chat_id=group.pk, user=alice, seq=1)
    send(direct_chat(alice, bob), bob, "hello you")
    direct_chat(alice, charlie)  # no message yet
    memberships, _ = chat_page_for_user(user=alice)

    for serializer_class in (ChatSerializer, ChatDetailSerializer):
        listed = chats_data(memberships, detail=serializer_class is ChatDetailSerializer)
        context = {"online_ids": {str(bob.pk)}}
        generic = [
            serializers.Serializer.to_representation(serializer_class(context=context), m)
            for m in memberships
        ]
        assert unstamped(listed) == unstamped(generic)
    assert {chat["unread_count"] for chat in listed} == {0, 1}
