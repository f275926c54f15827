"""Capture what services publish, on the real (in-memory) channel layer of the test process."""

import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from messaging.realtime import chat_group, user_group


class EventListener:
    """A channel that joins groups and reads back what was sent to them, without waiting.

    In a test wrapped in a transaction that never commits, reading first runs the on-commit
    callbacks queued since the listener was made, each once, as a commit would."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        self.ran = {id(callback) for _, callback, _ in connection.run_on_commit}

    def join_chat(self, chat_id):
        self.run_on_commit_callbacks()  # what happened before joining is not heard
        async_to_sync(self.layer.group_add)(chat_group(chat_id), self.channel)

    def join_user(self, user_id):
        self.run_on_commit_callbacks()
        async_to_sync(self.layer.group_add)(user_group(user_id), self.channel)

    def run_on_commit_callbacks(self) -> None:
        pending = True
        while pending:
            pending = [c for _, c, _ in connection.run_on_commit if id(c) not in self.ran]
            for callback in pending:
                self.ran.add(id(callback))
                callback()

    def layer_messages(self) -> list[dict]:
        self.run_on_commit_callbacks()
        queue = self.layer.channels.get(self.channel)
        messages = []
        while queue is not None and not queue.empty():
            messages.append(queue.get_nowait()[1])
        return messages

    def events(self) -> list[dict]:
        """The client-visible events (the JSON each socket would be sent), in order."""
        return [json.loads(m["text"]) for m in self.layer_messages() if "text" in m]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]
