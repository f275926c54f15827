"""The socket's database threads and the work they hand back to the event loop."""

import threading

import pytest

from chatproject.database import database_call, on_caller_loop


@pytest.mark.django_db  # the thread closes stale connections that earlier tests left
async def test_work_handed_to_the_loop_is_done_when_the_call_returns():
    ran_on = []

    async def publish():
        ran_on.append(threading.current_thread())

    @database_call
    def send():
        return on_caller_loop(publish), threading.current_thread()

    handed, database_thread = await send()
    assert handed and ran_on == [threading.main_thread()] != [database_thread]


def test_outside_a_database_call_nothing_is_handed_over():
    async def publish():
        raise AssertionError("must not run")

    assert on_caller_loop(publish) is False
