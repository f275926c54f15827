"""The project's PostgreSQL backend (chatproject/postgresql): Django's, with timestamps
parsed by psycopg's compiled loader and lists of ids passed as one array parameter; and the
project's indexes."""

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from django.apps import apps
from django.db import connection
from psycopg.pq import Format

from accounts.models import User
from accounts.tests.factories import UserFactory
from chatproject.postgresql.base import TIMESTAMPTZ_OID
from chats.models import Chat
from messaging.models import Message, Reaction
from messaging.services.reactions import reaction_add
from messaging.tests.factories import group_chat, messages, send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def test_a_stored_timestamp_reads_back_as_the_same_instant_in_utc():
    alice = UserFactory()
    message = send(group_chat(alice), alice)
    written = datetime(2026, 3, 1, 0, 15, 30, 123456, tzinfo=KOLKATA)
    Message.objects.filter(pk=message.pk).update(edited_at=written)

    read = Message.objects.get(pk=message.pk).edited_at

    assert read == written
    assert read.tzinfo is UTC and read.hour == 18 and read.microsecond == 123456


def test_a_raw_query_gets_aware_utc_datetimes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT '2026-11-24 10:00:00.5+05:30'::timestamptz, NULL::timestamptz")
        value, missing = cursor.fetchone()
    assert value == datetime(2026, 11, 24, 4, 30, 0, 500000, tzinfo=UTC)
    assert value.tzinfo is UTC and missing is None


def test_timestamps_are_parsed_by_psycopgs_compiled_loader():
    connection.ensure_connection()
    loader_class = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    loader = loader_class(TIMESTAMPTZ_OID, connection.connection)

    assert psycopg.pq.__impl__ == "binary"  # requirements.txt pins psycopg-binary
    assert type(loader.load.__self__).__module__ == "psycopg_binary._psycopg"
    assert loader.timezone is UTC  # what Django's create_cursor compares


@pytest.fixture
def five_messages():
    alice = UserFactory()
    return messages(group_chat(alice), alice, 5)


def ids_of(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


def test_a_list_of_ids_is_one_array_parameter(five_messages):
    wanted = [five_messages[3].pk, five_messages[0].pk, None, str(five_messages[1].pk)]
    found = Message.objects.filter(pk__in=wanted)

    sql, params = found.query.sql_with_params()
    assert '"messaging_message"."id" = ANY(%s::bigint[])' in sql and len(params) == 1
    assert ids_of(found) == {five_messages[i].pk for i in (0, 1, 3)}
    assert ids_of(Message.objects.exclude(pk__in=wanted)) == {m.pk for m in five_messages[2::2]}


def test_uuids_and_related_instances_are_arrays_too(five_messages):
    chat_ids = [five_messages[0].chat_id, Chat().pk]
    assert ids_of(Chat.objects.filter(pk__in=chat_ids)) == {five_messages[0].chat_id}
    assert "::uuid[]" in str(Chat.objects.filter(pk__in=chat_ids).query)

    reaction_add(message_id=five_messages[2].pk, user=User.objects.get(), emoji="👍")
    by_instances = Reaction.objects.filter(message__in=five_messages[1:3])
    assert [r.emoji for r in by_instances] == ["👍"] and "::bigint[]" in str(by_instances.query)


def test_an_empty_list_matches_nothing_and_other_lists_keep_in(five_messages):
    assert not Message.objects.filter(pk__in=[]).exists()
    assert not Message.objects.filter(pk__in=[None]).exists()
    assert Message.objects.exclude(pk__in=[]).count() == 5

    by_content = Message.objects.filter(content__in=[five_messages[0].content])
    assert " IN (" in str(by_content.query) and by_content.count() == 1
    subquery = Message.objects.filter(pk__in=Message.objects.filter(seq__lte=2).values("pk"))
    assert " IN (SELECT" in str(subquery.query) and subquery.count() == 2


# Plain indexes (no expression, no predicate, not unique) whose columns are the leading
# columns of another plain index of the same table.
COVERED_INDEXES = """
    SELECT table_.relname, index_.relname
    FROM pg_index covered
    JOIN pg_class index_ ON index_.oid = covered.indexrelid
    JOIN pg_class table_ ON table_.oid = covered.indrelid
    WHERE table_.relname = ANY(%s)
      AND NOT covered.indisunique AND covered.indpred IS NULL AND covered.indexprs IS NULL
      AND EXISTS (
        SELECT 1 FROM pg_index wider
        WHERE wider.indrelid = covered.indrelid
          AND wider.indpred IS NULL AND wider.indexprs IS NULL
          AND wider.indnkeyatts > covered.indnkeyatts
          AND (wider.indkey::int2[])[0:covered.indnkeyatts - 1]
              = (covered.indkey::int2[])[0:covered.indnkeyatts - 1]
      )
"""


def test_no_index_of_the_apps_only_repeats_the_start_of_another():
    """Each index costs every insert; one whose columns lead another finds nothing the other
    does not (Django gives every foreign key an index unless told otherwise)."""
    app_models = [
        apps.get_app_config(app).get_models() for app in ("accounts", "chats", "messaging")
    ]
    tables = [model._meta.db_table for models in app_models for model in models]
    with connection.cursor() as cursor:
        cursor.execute(COVERED_INDEXES, [tables])
        assert cursor.fetchall() == []
