"""The project's PostgreSQL backend (chatproject/postgresql): Django's, with timestamps
parsed by psycopg's compiled loader."""

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from django.db import connection
from psycopg.pq import Format

from accounts.tests.factories import UserFactory
from chatproject.postgresql.base import TIMESTAMPTZ_OID
from messaging.models import Message
from messaging.tests.factories import group_chat, send

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
