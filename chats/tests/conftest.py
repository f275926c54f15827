import pytest

from chats import signals

SIGNAL_NAMES = [
    "chat_created",
    "chat_updated",
    "chat_deleted",
    "chat_hidden",
    "chat_unhidden",
    "members_added",
    "member_removed",
    "member_role_changed",
    "read_moved",
]


class SignalLog(list):
    """(name, arguments) of every chats signal sent, with `version`: the chat's version as
    the receiver saw it."""

    def names(self) -> list[str]:
        return [name for name, _ in self]

    def only(self, name: str) -> dict:
        (arguments,) = [arguments for sent, arguments in self if sent == name]
        return arguments


@pytest.fixture
def sent_signals():
    log = SignalLog()
    receivers = {}
    for name in SIGNAL_NAMES:

        def receiver(sender, *, signal, _name=name, **arguments):
            log.append((_name, {**arguments, "version": arguments["chat"].version}))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver, weak=False)
    yield log
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)
