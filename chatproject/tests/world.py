"""A small world for the authorisation and mass-assignment tests, made through the services.

A group (alice admin; bob, erin and dave members, dave then removed) and a direct chat
(alice and bob), each with a text message by alice that was edited, reacted to and
reported, a reply, and an image attachment in the group. One user per role:

- `owner`: alice, the group's admin and the sender of the target messages;
- `member`: bob, a plain member of both chats;
- `non-member`: charlie, in neither chat;
- `removed`: dave, who was in the group (wrote, reacted) until alice removed him;
- `anonymous`: no token. Where a public endpoint needs credentials (login, refresh,
  recover) an anonymous caller brings erin's, as anyone who knows them could.
"""

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import session_start
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from chatproject.tests.factories import image_bytes
from chats.models import Chat
from chats.services import chat_mark_read, member_remove
from messaging.models import Message
from messaging.serializers import AttachmentSerializer
from messaging.services import message_edit, reaction_add, report_create
from messaging.tests.factories import direct_chat, group_chat, send

OWNER, MEMBER, NON_MEMBER, REMOVED, ANONYMOUS = (
    "owner",
    "member",
    "non-member",
    "removed",
    "anonymous",
)
ROLES = (OWNER, MEMBER, NON_MEMBER, REMOVED, ANONYMOUS)
PHRASE = "the owl flies at noon"
# The worlds' tests log in and check passwords hundreds of times: Argon2 would take minutes.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
NEW_PASSWORD = "a-fresh-and-unusual-passphrase-42"


def png_upload(name: str = "picture.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(), content_type="image/png")


@dataclass
class Target:
    """A chat and the owner's message in it that message routes act on."""

    chat: Chat
    message: Message

    @property
    def name(self) -> str:
        return self.chat.type


@dataclass
class World:
    users: dict[str, User]  # by role; ANONYMOUS maps to erin (credentials only)
    erin: User
    group: Target
    direct: Target
    attachment: Message
    tokens: dict[str, dict] = field(default_factory=dict)

    @property
    def targets(self) -> list[Target]:
        return [self.group, self.direct]

    def file_token(self) -> str:
        url = AttachmentSerializer(self.attachment.attachment).data["url"]
        return url.rsplit("/", 1)[1]

    def remove_dave(self) -> None:
        dave = self.users[REMOVED]
        member_remove(chat_id=self.group.chat.pk, actor=self.users[OWNER], user_id=dave.pk)

    def open_sessions(self) -> None:
        self.tokens = {role: session_start(user=user) for role, user in self.users.items()}

    def client(self, role: str) -> APIClient:
        """An API client of the role's session (anonymous: no token)."""
        client = APIClient()
        if role != ANONYMOUS:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role]['access']}")
        return client


def person(username: str) -> User:
    return UserFactory(
        username=username,
        password=make_password(TEST_PASSWORD),
        security_phrase=make_password(PHRASE),
    )


def build_world(*, remove_dave: bool = True) -> World:
    """The world; passwords and phrases use the default hasher (tests make it a fast one)."""
    alice, bob, charlie, dave, erin = map(person, ["alice", "bob", "charlie", "dave", "erin"])
    group = group_chat(alice, bob, erin, dave)
    target = send(group, alice, "hello team")
    send(group, bob, "hi alice", reply_to_id=target.pk)
    send(group, dave, "dave was here")
    reaction_add(message_id=target.pk, user=bob, emoji="👍")
    reaction_add(message_id=target.pk, user=dave, emoji="👀")
    message_edit(message_id=target.pk, editor=alice, content="hello team!")
    attachment = send(group, alice, "", upload=png_upload())
    report_create(message_id=target.pk, reporter=erin, reason="too cheerful")
    chat_mark_read(chat_id=group.pk, user=bob, seq=1_000)  # clamped to the last

    direct = direct_chat(alice, bob)
    direct_target = send(direct, alice, "hi bob")
    reaction_add(message_id=direct_target.pk, user=bob, emoji="👍")
    message_edit(message_id=direct_target.pk, editor=alice, content="hi bob!")

    users = {OWNER: alice, MEMBER: bob, NON_MEMBER: charlie, REMOVED: dave, ANONYMOUS: erin}
    world = World(
        users=users,
        erin=erin,
        group=Target(group, target),
        direct=Target(direct, direct_target),
        attachment=Message.objects.select_related("attachment").get(pk=attachment.pk),
    )
    if remove_dave:
        world.remove_dave()
    return world
