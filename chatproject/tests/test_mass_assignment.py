"""Mass assignment: every write endpoint, sent its own fields plus every read-only or
server-owned field it does not take (ids, counters, senders, owners, flags, timestamps, roles,
another user's id), ignores the extras: the database holds what the endpoint itself decides.

`forged()` adds the extras; `others_untouched` checks that the rows of everyone but the caller,
and everyone's account flags, stay as they were; each test then asserts the fields the
endpoint owns. `test_every_write_route_is_covered` fails for a write route with no test here.
"""

import time
from contextlib import contextmanager

import pytest
from django.contrib.auth.hashers import check_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Session, User
from accounts.services import user_set_avatar
from accounts.tests.factories import TEST_PASSWORD
from chatproject.tests.routes import write_routes
from chatproject.tests.world import (
    ANONYMOUS,
    FAST_HASHERS,
    MEMBER,
    NEW_PASSWORD,
    NON_MEMBER,
    OWNER,
    PHRASE,
    build_world,
    png_upload,
)
from chats.models import Chat, Membership
from messaging.models import Message, Reaction, Report

pytestmark = pytest.mark.django_db
PAST = "2001-01-01T00:00:00Z"
COVERED: set[tuple[str, str]] = set()


def covers(name: str, method: str):
    COVERED.add((name, method))
    return lambda test: test


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the module, like TestCase.setUpTestData: built in a transaction rolled
    back at the end; each test runs in a savepoint inside it."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=media),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        world = build_world()
        world.open_sessions()
        yield world
        transaction.set_rollback(True)


def hostile(world) -> dict:
    """Values a client might forge for fields the server owns: ids of others, counters,
    flags, roles and timestamps."""
    bob, other = world.users[MEMBER], world.direct
    bob_sid = AccessToken(world.tokens[MEMBER]["access"])["sid"]
    return {
        "id": "00000000-0000-0000-0000-000000000042",
        "pk": 42,
        "seq": 999,
        "version": 999,
        "last_seq": 999,
        "last_read_seq": 999,
        "cleared_seq": 999,
        "sender": str(bob.pk),
        "sender_id": str(bob.pk),
        "user": str(bob.pk),
        "user_id": str(bob.pk),
        "reporter": str(bob.pk),
        "created_by": str(bob.pk),
        "resolved_by": str(bob.pk),
        "sid": bob_sid,
        "chat": str(other.chat.pk),
        "chat_id": str(other.chat.pk),
        "message_id": other.message.pk,
        "is_deleted": True,
        "is_hidden": True,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "is_online": True,
        "has_security_phrase": True,
        "created_at": PAST,
        "edited_at": PAST,
        "deleted_at": PAST,
        "joined_at": PAST,
        "date_joined": PAST,
        "last_seen": PAST,
        "last_activity_at": PAST,
        "resolved_at": PAST,
        "role": "admin",
        "my_role": "admin",
        "type": "system",
        "status": "dismissed",
        "direct_key": "forged",
        "avatar": "avatars/forged.png",
        "file": "attachments/forged",
        "mime_type": "image/png",
        "size": 1,
        "width": 1,
        "height": 1,
        "members_count": 999,
        "unread_count": 999,
        "password": "forged-password-123",
        "security_phrase": "a forged phrase",
        "email": "forged@example.com",
        "username": "forged",
        "name": "Forged",
    }


def forged(world, own: dict, *, takes: str = "") -> dict:
    """`own` plus every hostile field that is not one the endpoint takes (`takes`: its
    other input fields, space-separated)."""
    accepted = set(own) | set(takes.split())
    return {**{k: v for k, v in hostile(world).items() if k not in accepted}, **own}


def account_rows(caller) -> dict:
    """Account flags of everyone; every field (and the sessions) of everyone else."""
    flags = ["is_staff", "is_superuser", "is_active", "last_seen", "date_joined"]
    rows = {("flags", pk): row for pk, *row in User.objects.values_list("pk", *flags)}
    others = User.objects.exclude(pk=getattr(caller, "pk", None))
    fields = ["username", "email", "password", "security_phrase", "avatar", "bio", "status"]
    rows |= {("user", pk): row for pk, *row in others.values_list("pk", *fields)}
    sessions = Session.objects.exclude(user=caller) if caller else Session.objects.all()
    rows |= {("session", sid): [ended] for sid, ended in sessions.values_list("sid", "ended_at")}
    return rows


def chat_rows() -> dict:
    """What no endpoint changes on an existing chat, membership, message or report."""
    chat = ["type", "direct_key", "created_by_id", "created_at"]
    message = ["chat_id", "seq", "sender_id", "type", "created_at"]
    rows = {("chat", pk): row for pk, *row in Chat.objects.values_list("pk", *chat)}
    rows |= {
        ("membership", chat_id, user_id): [joined]
        for chat_id, user_id, joined in Membership.objects.values_list(
            "chat_id", "user_id", "joined_at"
        )
    }
    rows |= {("message", pk): row for pk, *row in Message.objects.values_list("pk", *message)}
    report = ["message_id", "reporter_id", "status", "resolved_by_id"]
    rows |= {("report", pk): row for pk, *row in Report.objects.values_list("pk", *report)}
    return rows


@contextmanager
def others_untouched(caller, *, chats: bool = True):
    """Rows that still exist afterwards are as they were (the tests check what went).
    `chats=False`: only accounts (a deleted account's messages and chats change)."""
    rows = (lambda: account_rows(caller) | chat_rows()) if chats else lambda: account_rows(caller)
    before = rows()
    yield
    after = rows()
    changed = {key: (row, after[key]) for key, row in before.items() if after.get(key, row) != row}
    assert changed == {}


def recent(moment) -> bool:
    return abs(moment.timestamp() - time.time()) < 300


def write(world, role, method, path, data, *, multipart=False, owner=None, chats=True):
    """The request as `role`; only the rows of `owner` (the caller's own account, or the one
    a public endpoint acts on) may change beyond new rows."""
    caller = owner or (None if role == ANONYMOUS else world.users[role])
    with others_untouched(caller, chats=chats):
        client = world.client(role)
        return getattr(client, method)(path, data, format="multipart" if multipart else "json")


def test_every_write_route_is_covered():
    assert sorted(write_routes() - COVERED) == []


# --- Accounts -------------------------------------------------------------------------------


@covers("auth-register", "post")
def test_register_makes_a_plain_active_account(world):
    own = {"username": "newcomer", "email": "newcomer@example.com", "password": NEW_PASSWORD}
    takes = "full_name mobile_no security_phrase"
    response = write(
        world, ANONYMOUS, "post", reverse("auth-register"), forged(world, own, takes=takes)
    )
    assert response.status_code == 201
    user = User.objects.get(username="newcomer")
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert (user.last_seen, user.avatar, user.status, user.bio) == (None, "", "", "")
    assert str(user.pk) != hostile(world)["id"] and recent(user.date_joined)


@covers("auth-login", "post")
def test_login_opens_a_session_of_the_credentials_owner_only(world):
    bob = world.users[MEMBER]
    sessions = bob.sessions.count()
    own = {"username": "alice", "password": TEST_PASSWORD}
    response = write(world, ANONYMOUS, "post", reverse("auth-login"), forged(world, own))
    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(world.users[OWNER].pk)
    assert AccessToken(response.json()["access"])["user_id"] == str(world.users[OWNER].pk)
    assert bob.sessions.count() == sessions


@covers("auth-refresh", "post")
def test_refresh_stays_in_the_tokens_session(world):
    tokens = world.tokens[OWNER]
    own = {"refresh": tokens["refresh"]}
    response = write(world, ANONYMOUS, "post", reverse("auth-refresh"), forged(world, own))
    assert response.status_code == 200
    access = AccessToken(response.json()["access"])
    assert access["user_id"] == str(world.users[OWNER].pk)
    assert access["sid"] == AccessToken(tokens["access"])["sid"]


@covers("auth-logout", "post")
def test_logout_ends_only_the_callers_session(world):
    own = {"refresh": world.tokens[OWNER]["refresh"]}
    response = write(world, OWNER, "post", reverse("auth-logout"), forged(world, own))
    assert response.status_code == 204
    assert not Session.objects.get(sid=AccessToken(world.tokens[OWNER]["access"])["sid"]).is_active


@covers("auth-recover", "post")
def test_recovery_resets_only_the_named_account(world):
    own = {"username": "alice", "security_phrase": PHRASE, "new_password": NEW_PASSWORD}
    body = forged(world, own)
    alice = world.users[OWNER]
    response = write(world, ANONYMOUS, "post", reverse("auth-recover"), body, owner=alice)
    assert response.status_code == 204
    assert User.objects.get(username="alice").check_password(NEW_PASSWORD)


@covers("auth-password", "post")
def test_password_change_changes_only_the_callers(world):
    own = {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
    response = write(world, OWNER, "post", reverse("auth-password"), forged(world, own))
    assert response.status_code == 200
    assert User.objects.get(username="alice").check_password(NEW_PASSWORD)


@covers("user-me", "patch")
def test_profile_update_changes_only_profile_fields(world):
    own = {"bio": "new bio"}
    takes = "full_name mobile_no status email username"
    response = write(world, OWNER, "patch", reverse("user-me"), forged(world, own, takes=takes))
    assert response.status_code == 200
    alice = User.objects.get(pk=world.users[OWNER].pk)
    assert (alice.bio, alice.username, alice.email) == ("new bio", "alice", "alice@example.com")
    assert not check_password(hostile(world)["password"], alice.password)


@pytest.mark.parametrize("field", ["email", "username"])
def test_taking_someone_elses_email_or_username_is_400(world, field):
    bob = world.users[MEMBER]
    body = {field: getattr(bob, field).upper()}
    response = write(world, OWNER, "patch", reverse("user-me"), body)
    assert response.status_code == 400
    assert getattr(User.objects.get(pk=world.users[OWNER].pk), field) != body[field].lower()


@covers("user-me", "delete")
def test_account_deletion_deletes_only_the_caller(world):
    own = {"password": TEST_PASSWORD}
    body = forged(world, own)
    response = write(world, OWNER, "delete", reverse("user-me"), body, chats=False)
    assert response.status_code == 204
    assert not User.objects.filter(username="alice").exists()
    assert User.objects.filter(pk=world.users[MEMBER].pk).exists()


@covers("user-phrase", "put")
def test_security_phrase_changes_only_the_callers(world):
    own = {"password": TEST_PASSWORD, "security_phrase": "another long phrase"}
    response = write(world, OWNER, "put", reverse("user-phrase"), forged(world, own))
    assert response.status_code == 204
    alice = User.objects.get(pk=world.users[OWNER].pk)
    assert check_password("another long phrase", alice.security_phrase)


@covers("user-avatar", "put")
def test_avatar_upload_sets_only_the_callers_avatar(world):
    own = {"avatar": png_upload()}
    response = write(
        world, OWNER, "put", reverse("user-avatar"), forged(world, own), multipart=True
    )
    assert response.status_code == 200
    avatar = User.objects.get(pk=world.users[OWNER].pk).avatar
    assert avatar.startswith("avatars/") and avatar != hostile(world)["avatar"]


@covers("user-avatar", "delete")
def test_avatar_removal_removes_only_the_callers(world):
    user_set_avatar(user=world.users[MEMBER], upload=png_upload())
    response = write(world, OWNER, "delete", reverse("user-avatar"), forged(world, {}))
    assert response.status_code == 200
    assert User.objects.get(pk=world.users[MEMBER].pk).avatar != ""


# --- Chats ----------------------------------------------------------------------------------


@covers("chat-list", "post")
def test_a_new_group_belongs_to_its_creator_with_fresh_counters(world):
    bob = world.users[MEMBER]
    own = {"type": "group", "name": "New", "member_ids": [str(bob.pk)]}
    takes = "user_id description"
    response = write(world, OWNER, "post", reverse("chat-list"), forged(world, own, takes=takes))
    assert response.status_code == 201
    chat = Chat.objects.get(pk=response.json()["id"])
    assert (chat.type, chat.created_by, chat.direct_key, chat.avatar) == (
        "group",
        world.users[OWNER],
        None,
        "",
    )
    assert chat.last_seq == 0 and chat.version < 999 and recent(chat.created_at)
    roles = dict(chat.memberships.values_list("user__username", "role"))
    assert roles == {"alice": "admin", "bob": "member"}


def test_a_new_direct_chat_takes_no_name_or_members(world):
    charlie = world.users[NON_MEMBER]
    own = {"type": "direct", "user_id": str(charlie.pk)}
    body = forged(world, own, takes="description") | {"member_ids": [str(world.erin.pk)]}
    response = write(world, OWNER, "post", reverse("chat-list"), body)
    assert response.status_code == 201
    chat = Chat.objects.get(pk=response.json()["id"])
    assert (chat.type, chat.name) == ("direct", "")
    assert set(chat.memberships.values_list("user__username", flat=True)) == {"alice", "charlie"}


def group_path(world, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"chat_id": world.group.chat.pk, **kwargs})


@covers("chat-detail", "patch")
def test_chat_update_changes_only_name_and_description(world):
    before = Chat.objects.get(pk=world.group.chat.pk)
    body = forged(world, {"name": "Renamed"}, takes="description") | {"type": "direct"}
    response = write(world, OWNER, "patch", group_path(world, "chat-detail"), body)
    assert response.status_code == 200
    chat = Chat.objects.get(pk=before.pk)
    assert (chat.name, chat.type, chat.avatar) == ("Renamed", "group", before.avatar)
    assert (chat.last_seq, chat.version) == (before.last_seq, before.version + 1)


@covers("chat-detail", "delete")
def test_hiding_a_direct_chat_hides_it_for_the_caller_only(world):
    path = reverse("chat-detail", kwargs={"chat_id": world.direct.chat.pk})
    response = write(world, OWNER, "delete", path, forged(world, {}))
    assert response.status_code == 204
    hidden = dict(world.direct.chat.memberships.values_list("user__username", "is_hidden"))
    assert hidden == {"alice": True, "bob": False}
    assert world.direct.chat.memberships.get(user__username="bob").cleared_seq == 0


@covers("chat-avatar", "put")
def test_chat_avatar_upload_sets_only_the_avatar(world):
    body = forged(world, {"avatar": png_upload()})
    response = write(world, OWNER, "put", group_path(world, "chat-avatar"), body, multipart=True)
    assert response.status_code == 200
    chat = Chat.objects.get(pk=world.group.chat.pk)
    assert chat.avatar.startswith("chat-avatars/") and chat.name == "Team"


@covers("chat-avatar", "delete")
def test_chat_avatar_removal_touches_only_that_chat(world):
    response = write(world, OWNER, "delete", group_path(world, "chat-avatar"), forged(world, {}))
    assert response.status_code == 200
    assert Chat.objects.get(pk=world.group.chat.pk).name == "Team"


@covers("chat-leave", "post")
def test_leaving_takes_out_the_caller_only(world):
    response = write(world, MEMBER, "post", group_path(world, "chat-leave"), forged(world, {}))
    assert response.status_code == 204
    members = set(world.group.chat.memberships.values_list("user__username", flat=True))
    assert members == {"alice", "erin"}


@covers("chat-members", "post")
def test_added_members_are_plain_members_at_the_latest_message(world):
    charlie = world.users[NON_MEMBER]
    body = forged(world, {"user_ids": [str(charlie.pk)]})
    response = write(world, OWNER, "post", group_path(world, "chat-members"), body)
    assert response.status_code == 200
    chat = Chat.objects.get(pk=world.group.chat.pk)
    added = chat.memberships.get(user=charlie)
    assert (added.role, added.cleared_seq, added.is_hidden) == ("member", 0, False)
    assert chat.last_seq - 1 <= added.last_read_seq <= chat.last_seq  # before the notice of it
    assert recent(added.joined_at)


@covers("chat-member", "patch")
def test_a_role_change_applies_to_the_member_in_the_path(world):
    path = group_path(world, "chat-member", user_id=world.erin.pk)
    response = write(world, OWNER, "patch", path, forged(world, {"role": "admin"}))
    assert response.status_code == 200
    roles = dict(world.group.chat.memberships.values_list("user__username", "role"))
    assert roles == {"alice": "admin", "erin": "admin", "bob": "member"}


def test_a_member_cannot_make_themselves_admin(world):
    bob = world.users[MEMBER]
    path = group_path(world, "chat-member", user_id=bob.pk)
    assert write(world, MEMBER, "patch", path, {"role": "admin"}).status_code == 403
    assert world.group.chat.memberships.get(user=bob).role == "member"


@covers("chat-member", "delete")
def test_removal_removes_the_member_in_the_path(world):
    path = group_path(world, "chat-member", user_id=world.erin.pk)
    response = write(world, OWNER, "delete", path, forged(world, {}))
    assert response.status_code == 204
    members = set(world.group.chat.memberships.values_list("user__username", flat=True))
    assert members == {"alice", "bob"}


@covers("chat-read", "post")
def test_a_read_moves_only_the_callers_pointer(world):
    chat = Chat.objects.get(pk=world.group.chat.pk)
    pointers = dict(chat.memberships.values_list("user__username", "last_read_seq"))
    body = forged(world, {"seq": chat.last_seq})
    response = write(world, MEMBER, "post", group_path(world, "chat-read"), body)
    assert response.status_code == 204
    after = dict(chat.memberships.values_list("user__username", "last_read_seq"))
    assert after == pointers | {"bob": chat.last_seq}
    bob = chat.memberships.get(user__username="bob")
    assert (bob.cleared_seq, bob.is_hidden) == (0, False)


# --- Messages -------------------------------------------------------------------------------


@covers("chat-messages", "post")
def test_a_sent_message_gets_its_fields_from_the_server(world):
    chat = Chat.objects.get(pk=world.group.chat.pk)
    body = forged(world, {"content": "hi"}, takes="reply_to client_id file")
    response = write(world, OWNER, "post", group_path(world, "chat-messages"), body)
    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.chat_id, message.sender, message.seq) == (
        chat.pk,
        world.users[OWNER],
        chat.last_seq + 1,
    )
    assert (message.type, message.is_deleted, message.edited_at) == ("text", False, None)
    assert message.version == chat.version + 1 and recent(message.created_at)


def test_an_attachment_is_described_by_its_bytes_not_the_form(world):
    text = b"plain text, not an image"
    upload = SimpleUploadedFile("notes.png", text, content_type="image/png")
    body = forged(world, {"file": upload}, takes="content reply_to client_id")
    path = group_path(world, "chat-messages")
    response = write(world, OWNER, "post", path, body, multipart=True)
    assert response.status_code == 201
    message = Message.objects.select_related("attachment").get(pk=response.json()["id"])
    attachment = message.attachment
    assert (message.type, attachment.size, attachment.width) == ("file", len(text), None)
    assert attachment.mime_type != "image/png" and attachment.file != hostile(world)["file"]


def message_path(world, name: str = "message-detail", target=None) -> str:
    return reverse(name, kwargs={"message_id": (target or world.group).message.pk})


@covers("message-detail", "patch")
def test_an_edit_changes_only_the_text(world):
    before = Message.objects.get(pk=world.group.message.pk)
    body = forged(world, {"content": "edited"})
    response = write(world, OWNER, "patch", message_path(world), body)
    assert response.status_code == 200
    message = Message.objects.get(pk=before.pk)
    assert (message.content, message.is_deleted, message.type) == ("edited", False, "text")
    assert recent(message.edited_at)


@covers("message-detail", "delete")
def test_a_deletion_deletes_the_message_in_the_path(world):
    response = write(world, OWNER, "delete", message_path(world), forged(world, {}))
    assert response.status_code == 204
    assert Message.objects.get(pk=world.group.message.pk).is_deleted
    assert not Message.objects.get(pk=world.direct.message.pk).is_deleted


@covers("message-reactions", "post")
def test_a_reaction_is_the_callers(world):
    body = forged(world, {"emoji": "🎉"})
    response = write(world, OWNER, "post", message_path(world, "message-reactions"), body)
    assert response.status_code == 200
    reactors = Reaction.objects.filter(message=world.group.message, emoji="🎉")
    assert list(reactors.values_list("user__username", flat=True)) == ["alice"]


@covers("message-reactions", "delete")
def test_removing_a_reaction_removes_only_the_callers(world):
    path = message_path(world, "message-reactions") + "?emoji=👍"
    response = write(world, OWNER, "delete", path, forged(world, {}))
    assert response.status_code == 200
    reactors = Reaction.objects.filter(message=world.group.message, emoji="👍")
    assert list(reactors.values_list("user__username", flat=True)) == ["bob"]


@covers("message-report", "post")
def test_a_report_is_open_and_the_callers(world):
    body = forged(world, {"reason": "spam"})
    response = write(world, MEMBER, "post", message_path(world, "message-report"), body)
    assert response.status_code == 201
    report = Report.objects.get(pk=response.json()["id"])
    assert (report.reporter, report.message_id) == (world.users[MEMBER], world.group.message.pk)
    assert (report.status, report.resolved_by, report.resolved_at) == ("open", None, None)
