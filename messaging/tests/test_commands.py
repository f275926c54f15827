"""The operator commands: chat_stats, purge and broadcast."""

import io
import json
import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Session
from accounts.services import session_logout, session_start, user_deactivate, user_set_avatar
from accounts.tests.factories import UserFactory
from messaging.models import Message, Report
from messaging.services import message_delete, report_create, report_delete_message
from messaging.services.maintenance import PurgeCandidates, purge_apply
from messaging.tests.factories import direct_chat, group_chat, messages, send


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def png(name="picture.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def document(content=b"twelve bytes") -> SimpleUploadedFile:
    return SimpleUploadedFile("notes.txt", content, content_type="text/plain")


def stored(name: str, content: bytes = b"orphan", *, age=timedelta(days=2)) -> str:
    """A file put straight into storage, last modified `age` ago."""
    name = default_storage.save(name, ContentFile(content))
    age_files(name, age=age)
    return name


def age_files(*names: str, age=timedelta(days=2)) -> None:
    moment = time.time() - age.total_seconds()
    for name in names:
        os.utime(default_storage.path(name), (moment, moment))


# --- chat_stats -----------------------------------------------------------------------------


def test_chat_stats_counts_users_chats_messages_files_and_reports(alice, bob, charlie):
    group = group_chat(alice, bob)
    direct = direct_chat(alice, charlie)
    messages(group, alice, 3)
    send(direct, charlie, "", upload=document(b"x" * 100))
    message_delete(message_id=send(group, bob, "oops").pk, actor=bob)
    report_create(message_id=send(direct, alice, "spam").pk, reporter=charlie, reason="spam")
    user_set_avatar(user=alice, upload=png())
    user_deactivate(user=charlie)

    stats = json.loads(run("chat_stats", "--json"))

    assert stats["users"] == {"total": 3, "active": 2}
    assert stats["chats"] == {"total": 2, "by_type": {"direct": 1, "group": 1}}
    assert stats["messages"]["total"] == 6
    assert stats["messages"]["by_type"] == {
        "text": 5, "image": 0, "video": 0, "file": 1, "system": 0,
    }  # fmt: skip
    assert stats["messages"]["deleted"] == 1
    assert stats["attachments"] == {"count": 1, "bytes": 100}
    assert stats["open_reports"] == 1
    avatar_bytes = default_storage.size(alice.avatar)
    assert stats["storage"] == {
        "attachment_bytes": 100,
        "avatar_files": 1,
        "avatar_bytes": avatar_bytes,
        "avatars_missing": 0,
        "total_bytes": 100 + avatar_bytes,
    }


def test_chat_stats_lists_the_busiest_chats_first(alice, bob, charlie):
    quiet = direct_chat(alice, bob)
    busy = group_chat(alice, bob, charlie, name="Busy")
    send(quiet, alice)
    messages(busy, bob, 4)

    stats = json.loads(run("chat_stats", "--json", "--top", "1"))

    assert stats["busiest_chats"] == [
        {"id": str(busy.pk), "type": "group", "name": "Busy", "messages": 4, "members": 3}
    ]


def test_chat_stats_prints_a_readable_summary(alice, bob):
    group = group_chat(alice, bob, name="Team")
    messages(group, alice, 2)

    output = run("chat_stats")

    assert "Users: 2 (2 active)" in output
    assert "Chats: 1 (0 direct, 1 group)" in output
    assert "Messages: 2 (2 text, 0 image, 0 video, 0 file, 0 system), 0 deleted" in output
    assert f"       2 messages    2 members  group   {group.pk}  Team" in output


def test_chat_stats_counts_an_avatar_missing_on_disk(alice):
    user_set_avatar(user=alice, upload=png())
    default_storage.delete(alice.avatar)

    stats = json.loads(run("chat_stats", "--json"))

    assert stats["storage"]["avatars_missing"] == 1
    assert stats["storage"]["avatar_bytes"] == 0


@pytest.mark.parametrize("size", [1, 5])
def test_chat_stats_takes_the_same_queries_at_any_size(size, alice, django_assert_num_queries):
    for _ in range(size):
        other = UserFactory()
        user_set_avatar(user=other, upload=png())
        chat = group_chat(alice, other)
        messages(chat, other, size)
        send(chat, alice, "", upload=document())

    with django_assert_num_queries(9):
        run("chat_stats", "--json", "--top", "3")


def test_chat_stats_refuses_a_negative_top(db):
    with pytest.raises(CommandError, match="--top"):
        run("chat_stats", "--top", "-1")


# --- purge ----------------------------------------------------------------------------------


@pytest.fixture
def files_on_disk(alice, bob):
    """Stored files, some still named by a row and some not, all older than the grace."""
    chat = direct_chat(alice, bob)
    kept = send(chat, alice, "", upload=document())
    erased = send(chat, bob, "", upload=document())
    erased_file = erased.attachment.file
    # Deleting drops the row now and the file after the commit, which a test never reaches:
    # the file stays on disk as when that step fails.
    message_delete(message_id=erased.pk, actor=bob)
    user_set_avatar(user=alice, upload=png())
    age_files(kept.attachment.file, erased_file, alice.avatar)
    return {
        "referenced": [kept.attachment.file, alice.avatar],
        "orphaned": [
            erased_file,
            stored("avatars/replaced.png"),
            stored("chat-avatars/group-gone.png"),
            stored("attachments/nested/left.bin"),
        ],
        "young": stored("attachments/in-flight.bin", age=timedelta(minutes=5)),
        "elsewhere": stored("exports/report.csv"),
    }


def test_purge_erases_orphaned_files_and_nothing_referenced(files_on_disk):
    output = run("purge")

    for name in files_on_disk["orphaned"]:
        assert not default_storage.exists(name)
        assert f"file {name} " in output
    kept = [*files_on_disk["referenced"], files_on_disk["young"], files_on_disk["elsewhere"]]
    for name in kept:
        assert default_storage.exists(name)
        assert name not in output
    assert "Deleted 4 files" in output


def test_purge_dry_run_lists_the_orphans_and_deletes_nothing(files_on_disk):
    output = run("purge", "--dry-run")

    for name in files_on_disk["orphaned"]:
        assert f"file {name} " in output
        assert default_storage.exists(name)
    assert "Would delete 4 files" in output


def test_purge_keeps_the_tombstone_row_and_its_seq(files_on_disk, alice):
    rows = list(Message.objects.order_by("pk").values_list("pk", "seq", "is_deleted"))

    run("purge")

    assert list(Message.objects.order_by("pk").values_list("pk", "seq", "is_deleted")) == rows


def test_purge_never_erases_a_file_that_a_row_names_by_the_time_it_runs(files_on_disk):
    """A candidate list that went stale (computed before the row appeared) spares the file."""
    referenced = files_on_disk["referenced"][0]
    stale = PurgeCandidates(files={referenced: 12})

    erased = purge_apply(candidates=stale)

    assert erased.files == {}
    assert default_storage.exists(referenced)


@pytest.fixture
def reports(alice, bob, charlie, settings):
    """Reports of deleted messages: resolved long ago, resolved lately, and still open."""
    settings.PURGE_RETENTION_DAYS = 30
    moderator = UserFactory(is_staff=True)
    chat = group_chat(alice, bob, charlie)
    old = report_create(message_id=send(chat, bob, "old").pk, reporter=alice, reason="rude")
    recent = report_create(message_id=send(chat, bob, "new").pk, reporter=alice, reason="rude")
    unhandled_message = send(chat, bob, "x")
    unhandled = report_create(message_id=unhandled_message.pk, reporter=charlie, reason="rude")
    report_delete_message(report=old, moderator=moderator)
    report_delete_message(report=recent, moderator=moderator)
    message_delete(message_id=unhandled_message.pk, actor=bob)
    long_ago = timezone.now() - timedelta(days=31)
    Message.objects.filter(pk__in=[old.message_id, unhandled.message_id]).update(
        deleted_at=long_ago
    )
    Report.objects.filter(pk=old.pk).update(resolved_at=long_ago)
    return {"old": old, "recent": recent, "open": unhandled}


def test_purge_removes_resolved_reports_of_messages_deleted_before_the_retention(reports):
    output = run("purge")

    assert set(Report.objects.values_list("pk", flat=True)) == {
        reports["recent"].pk,
        reports["open"].pk,
    }
    assert f"report {reports['old'].pk}" in output
    assert ", 1 reports and" in output


def test_purge_dry_run_keeps_the_reports(reports):
    output = run("purge", "--dry-run")

    assert Report.objects.count() == 3
    assert f"report {reports['old'].pk}" in output


def test_purge_retention_days_option_overrides_the_setting(reports):
    run("purge", "--retention-days", "40")

    assert Report.objects.count() == 3


def test_purge_removes_sessions_ended_before_the_retention_and_their_tokens_stay_refused(
    alice, bob, api, settings
):
    settings.PURGE_RETENTION_DAYS = 30
    old = session_start(user=alice)
    recent = session_start(user=alice)
    session_start(user=bob)  # still open
    for tokens in (old, recent):
        session_logout(user=alice, refresh=tokens["refresh"])
    old_sid = AccessToken(old["access"])["sid"]
    Session.objects.filter(sid=old_sid).update(ended_at=timezone.now() - timedelta(days=31))

    assert "1 ended sessions" in run("purge", "--dry-run")
    assert Session.objects.count() == 3
    assert "Deleted 0 files (0 bytes), 0 reports and 1 ended sessions." in run("purge")

    assert not Session.objects.filter(sid=old_sid).exists()
    assert Session.objects.count() == 2
    refused = api.post("/api/v1/auth/refresh", {"refresh": old["refresh"]}, format="json")
    assert refused.status_code == 401


def test_purge_refuses_a_negative_retention(db):
    with pytest.raises(CommandError, match="--retention-days"):
        run("purge", "--retention-days", "-1")


# --- broadcast ------------------------------------------------------------------------------


def test_broadcast_reaches_the_members_open_sockets(alice, bob, events):
    chat = group_chat(alice, bob)
    events.join_chat(chat.pk)
    events.events()

    output = run("broadcast", str(chat.pk), "Maintenance tonight at 22:00")

    [event] = events.events()
    assert event["type"] == "new_message"
    assert event["chat_id"] == str(chat.pk)
    message = event["message"]
    assert (message["type"], message["sender"]) == ("system", None)
    assert message["content"] == "Maintenance tonight at 22:00"
    assert event["version"] == message["version"]
    assert f"seq {message['seq']}" in output


def test_broadcast_as_a_staff_member(alice, bob):
    chat = direct_chat(alice, bob)
    UserFactory(username="operator", is_staff=True)

    run("broadcast", str(chat.pk), "Hello from the team", "--as-user", "Operator")

    assert chat.messages.get().type == Message.Type.SYSTEM


def test_broadcast_refuses_a_user_who_is_not_staff(alice, bob):
    chat = direct_chat(alice, bob)

    with pytest.raises(CommandError, match="not an active staff account"):
        run("broadcast", str(chat.pk), "Hello", "--as-user", "alice")
    assert not chat.messages.exists()


def test_broadcast_refuses_an_unknown_chat(db):
    with pytest.raises(CommandError, match="There is no chat with id"):
        run("broadcast", "00000000-0000-0000-0000-000000000000", "Hello")


def test_broadcast_refuses_a_chat_id_that_is_not_a_uuid(db):
    with pytest.raises(CommandError, match="invalid UUID"):
        run("broadcast", "general", "Hello")


def test_broadcast_refuses_blank_text(alice, bob):
    chat = group_chat(alice, bob)

    with pytest.raises(CommandError, match="cannot be empty"):
        run("broadcast", str(chat.pk), "   ")
    assert not chat.messages.exists()
