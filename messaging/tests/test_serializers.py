"""The written-out representation of <message> against DRF's generic one."""

import pytest
from rest_framework import serializers

from chatproject.tests.factories import unstamped
from messaging.selectors import message_queryset
from messaging.serializers import ONLINE_IDS, MessageSerializer, messages_data
from messaging.services import message_delete, message_edit, message_post_system, reaction_add
from messaging.tests.factories import group_chat, send
from messaging.tests.test_commands import document, png


def generic(message) -> dict:
    """What DRF builds from the declared fields (the schema) for the same message."""
    serializer = MessageSerializer(message)
    return serializers.ModelSerializer.to_representation(serializer, message)


@pytest.fixture
def every_shape(alice, bob):
    """Messages of every kind: text with a reply, reactions and an edit, image, file, system
    notice, deleted."""
    chat = group_chat(alice, bob)
    first = send(chat, alice, "first")
    reply = send(chat, bob, "a reply", reply_to_id=first.pk, client_id="c-1")
    reaction_add(message_id=reply.pk, user=alice, emoji="👍")
    reaction_add(message_id=reply.pk, user=bob, emoji="👍")
    message_edit(message_id=first.pk, editor=alice, content="first, edited")
    send(chat, alice, "", upload=png())
    send(chat, bob, "notes", upload=document())
    message_post_system(chat_id=chat.pk, content="A notice")
    message_delete(message_id=send(chat, bob, "oops").pk, actor=bob)
    return list(message_queryset().filter(chat=chat).order_by("seq"))


def test_every_shape_matches_the_declared_fields(every_shape, mark_online, alice):
    mark_online(alice)
    for message in every_shape:
        assert unstamped(MessageSerializer(message).data) == unstamped(generic(message))


def test_a_list_shows_its_senders_presence_and_matches_the_declared_fields(
    every_shape, mark_online, alice
):
    mark_online(alice)
    context = {ONLINE_IDS: {str(alice.pk)}}
    listed = messages_data(every_shape)
    assert unstamped(listed) == unstamped(
        [
            serializers.ModelSerializer.to_representation(MessageSerializer(m, context=context), m)
            for m in every_shape
        ]
    )
    assert {m["sender"]["is_online"] for m in listed if m["sender"]} == {True, False}
