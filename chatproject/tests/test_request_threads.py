"""HTTP requests' sync code on pooled threads (chatproject.database.PooledASGIHandler): one
thread per request in progress, reused by the next request instead of started anew."""

import asyncio
import json
import threading

import pytest
from channels.testing import HttpCommunicator
from django.http import JsonResponse
from django.urls import path

from chatproject.database import PooledASGIHandler

gate = threading.Event()


def thread_view(request):
    return JsonResponse({"thread": threading.get_ident()})


def wait_view(request):
    return JsonResponse({"thread": threading.get_ident(), "released": gate.wait(timeout=10)})


def release_view(request):
    gate.set()
    return JsonResponse({"thread": threading.get_ident()})


urlpatterns = [path("thread", thread_view), path("wait", wait_view), path("release", release_view)]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    gate.clear()
    return PooledASGIHandler()


async def get(handler, route: str) -> dict:
    communicator = HttpCommunicator(handler, "GET", route, headers=[(b"host", b"testserver")])
    response = await communicator.get_response(timeout=20)
    await communicator.wait(timeout=20)
    assert response["status"] == 200
    return json.loads(response["body"])


async def test_requests_one_after_another_reuse_one_thread(handler):
    first = await get(handler, "/thread")
    second = await get(handler, "/thread")

    assert first["thread"] == second["thread"] != threading.get_ident()


async def test_a_request_waiting_in_its_view_holds_up_no_other_request(handler):
    waiting, releasing = await asyncio.gather(get(handler, "/wait"), get(handler, "/release"))

    assert waiting["released"] is True
    assert waiting["thread"] != releasing["thread"]


async def test_threads_beyond_the_kept_ones_end_with_their_request(handler, monkeypatch):
    monkeypatch.setattr(handler.threads, "idle", [])
    monkeypatch.setattr(handler.threads, "kept", 1)

    waiting, releasing = await asyncio.gather(get(handler, "/wait"), get(handler, "/release"))
    kept = (await get(handler, "/thread"))["thread"]

    used = {waiting["thread"], releasing["thread"]}
    assert kept in used
    for thread in threading.enumerate():
        if thread.ident in used - {kept}:
            thread.join(timeout=10)
            assert not thread.is_alive()
