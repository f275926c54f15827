import pytest

from chatproject.tests.collector import models_left_for_the_collector
from chats.services import chat_delete, chat_mark_read
from messaging.realtime import PublishStats
from messaging.services import message_delete, message_edit, reaction_add
from messaging.tests.factories import direct_chat, group_chat, messages, send


@pytest.fixture
def chat(alice, bob):
    return group_chat(alice, bob)


def post_message(client, chat, **body):
    return client.post(f"/api/v1/chats/{chat.pk}/messages", body, format="json")


# --- Access ---------------------------------------------------------------------------------


def test_non_member_gets_404_on_everything_about_a_chats_messages(chat, alice, charlie, client_for):
    message = send(chat, alice)
    api = client_for(charlie)
    assert api.get(f"/api/v1/chats/{chat.pk}/messages").status_code == 404
    assert api.get(f"/api/v1/chats/{chat.pk}/changes").status_code == 404
    assert post_message(api, chat, content="hi").status_code == 404
    base = f"/api/v1/messages/{message.pk}"
    assert api.get(base).status_code == 404
    assert api.patch(base, {"content": "x"}, format="json").status_code == 404
    assert api.delete(base).status_code == 404
    assert api.post(f"{base}/reactions", {"emoji": "👍"}, format="json").status_code == 404
    assert api.delete(f"{base}/reactions?emoji=👍").status_code == 404
    assert api.get(f"{base}/receipts").status_code == 404
    assert api.get(f"{base}/history").status_code == 404
    assert api.post(f"{base}/report", {"reason": "x"}, format="json").status_code == 404
    assert api.get(f"/api/v1/messages/search?q=hello&chat_id={chat.pk}").status_code == 404


def test_unknown_ids_are_404(alice, client_for):
    api = client_for(alice)
    assert api.get("/api/v1/messages/999999").status_code == 404
    assert api.get("/api/v1/messages/99999999999999999999999").status_code == 404
    chat_id = "00000000-0000-0000-0000-000000000000"
    assert api.get(f"/api/v1/chats/{chat_id}/messages").status_code == 404


def test_anonymous_requests_are_401(chat, api):
    assert api.get(f"/api/v1/chats/{chat.pk}/messages").status_code == 401


def test_cleared_messages_do_not_exist_for_the_member_who_cleared(alice, bob, client_for):
    chat = direct_chat(alice, bob)
    old = send(chat, bob, "before clearing")
    chat_delete(chat_id=chat.pk, actor=alice)
    new = send(chat, bob, "after clearing")
    api = client_for(alice)
    assert api.get(f"/api/v1/messages/{old.pk}").status_code == 404
    assert api.get(f"/api/v1/messages/{old.pk}/receipts").status_code == 404
    history = api.get(f"/api/v1/chats/{chat.pk}/messages").json()["results"]
    assert [m["id"] for m in history] == [new.pk]
    changes = api.get(f"/api/v1/chats/{chat.pk}/changes?since=0").json()
    assert [m["id"] for m in changes["messages"]] == [new.pk] and changes["cleared_seq"] == 1
    found = api.get("/api/v1/messages/search?q=clearing").json()["results"]
    assert [m["id"] for m in found] == [new.pk]
    assert client_for(bob).get(f"/api/v1/messages/{old.pk}").status_code == 200


# --- Sending --------------------------------------------------------------------------------


def test_sending_text_answers_201_with_the_message(chat, alice, client_for):
    response = post_message(client_for(alice), chat, content="hello", client_id="c-1")
    assert response.status_code == 201
    body = response.json()
    assert body["seq"] == 1 and body["content"] == "hello" and body["client_id"] == "c-1"
    assert body["sender"]["username"] == "alice" and "email" not in body["sender"]
    assert body["type"] == "text" and body["attachment"] is None and body["reactions"] == []


def test_a_repeated_client_id_answers_200_with_the_first_message(chat, alice, client_for):
    api = client_for(alice)
    first = post_message(api, chat, content="hello", client_id="c-1").json()
    again = post_message(api, chat, content="other", client_id="c-1")
    assert again.status_code == 200 and again.json() == first


def test_the_path_works_with_a_trailing_slash(chat, alice, client_for):
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages/", {"content": "hi"}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"content": "   "},
        {"content": "x" * 10_001},
        {"content": 5},
        {"content": ["a"]},
        {"content": "a\u0000b"},
        {"content": "hi", "client_id": "x" * 65},
        {"content": "hi", "reply_to": "abc"},
        {"content": "hi", "reply_to": 999999},
    ],
)
def test_bad_sends_are_400(chat, alice, client_for, body):
    assert post_message(client_for(alice), chat, **body).status_code == 400


def test_a_lone_surrogate_in_json_is_400(chat, alice, client_for):
    response = client_for(alice).post(
        f"/api/v1/chats/{chat.pk}/messages",
        '{"content": "a\\ud800b"}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_replying_to_a_deleted_message_is_409(chat, alice, bob, client_for):
    target = send(chat, bob)
    message_delete(message_id=target.pk, actor=bob)
    response = post_message(client_for(alice), chat, content="re", reply_to=target.pk)
    assert response.status_code == 409


def test_sending_to_a_direct_chat_of_a_deleted_account_is_403(alice, bob, client_for):
    from accounts.services import user_delete
    from accounts.tests.factories import TEST_PASSWORD

    chat = direct_chat(alice, bob)
    user_delete(user=bob, password=TEST_PASSWORD)
    assert post_message(client_for(alice), chat, content="hi").status_code == 403


def test_sending_too_fast_is_429_with_retry_after(chat, alice, client_for, settings):
    settings.THROTTLE_SEND = "2/min"
    api = client_for(alice)
    assert post_message(api, chat, content="1").status_code == 201
    assert post_message(api, chat, content="2").status_code == 201
    response = post_message(api, chat, content="3")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


# --- History --------------------------------------------------------------------------------


def history(client, chat, query=""):
    return client.get(f"/api/v1/chats/{chat.pk}/messages{query}")


def seqs(response) -> list[int]:
    return [message["seq"] for message in response.json()["results"]]


def test_history_pages_by_seq_in_ascending_order(chat, alice, client_for):
    messages(chat, alice, 7)
    api = client_for(alice)
    latest = history(api, chat, "?limit=3")
    assert seqs(latest) == [5, 6, 7] and latest.json()["has_more"] is True
    older = history(api, chat, "?before=5&limit=3")
    assert seqs(older) == [2, 3, 4] and older.json()["has_more"] is True
    oldest = history(api, chat, "?before=2&limit=3")
    assert seqs(oldest) == [1] and oldest.json()["has_more"] is False
    newer = history(api, chat, "?after=4&limit=2")
    assert seqs(newer) == [5, 6] and newer.json()["has_more"] is True
    newest = history(api, chat, "?after=5&limit=2")
    assert seqs(newest) == [6, 7] and newest.json()["has_more"] is False


def test_history_defaults_to_the_latest_fifty_and_clamps_to_a_hundred(chat, alice, client_for):
    messages(chat, alice, 101)
    api = client_for(alice)
    assert len(history(api, chat).json()["results"]) == 50
    assert len(history(api, chat, "?limit=100000").json()["results"]) == 100


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=-1", "?limit=x", "?limit=1.5", "?before=x", "?after=1e3",
     "?before=2&after=1", "?before=99999999999999999999999"],
)  # fmt: skip
def test_bad_history_queries_are_400(chat, alice, client_for, query):
    assert history(client_for(alice), chat, query).status_code == 400


def test_history_keeps_a_constant_number_of_queries(
    chat, alice, bob, client_for, django_assert_num_queries
):
    api = client_for(bob)

    def queries_for_history() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert history(api, chat).status_code == 200
        return len(captured)

    _history_data(chat, alice, bob, 3)
    small = queries_for_history()
    _history_data(chat, alice, bob, 20)
    assert queries_for_history() == small


def test_a_history_page_leaves_no_message_for_the_cyclic_collector(chat, alice, bob, client_for):
    messages(chat, alice, 5)
    api = client_for(bob)
    assert "Message" not in models_left_for_the_collector(lambda: history(api, chat))


def _history_data(chat, alice, bob, count):
    for message in messages(chat, alice, count):
        reaction_add(message_id=message.pk, user=bob, emoji="👍")
        send(chat, bob, "re", reply_to_id=message.pk)


# --- Changes --------------------------------------------------------------------------------


def test_changes_returns_each_changed_message_once_in_its_latest_state(
    chat, alice, bob, client_for
):
    first, second, third = messages(chat, alice, 3)
    api = client_for(bob)
    since = api.get(f"/api/v1/chats/{chat.pk}/changes?since=0").json()["version"]
    message_edit(message_id=first.pk, editor=alice, content="edited")
    reaction_add(message_id=third.pk, user=bob, emoji="👍")
    message_edit(message_id=first.pk, editor=alice, content="edited twice")
    message_delete(message_id=second.pk, actor=alice)
    body = api.get(f"/api/v1/chats/{chat.pk}/changes?since={since}").json()
    assert [m["id"] for m in body["messages"]] == [third.pk, first.pk, second.pk]
    assert body["messages"][1]["content"] == "edited twice"
    assert body["messages"][2]["is_deleted"] is True
    assert body["version"] == body["messages"][-1]["version"] == since + 4
    assert body["has_more"] is False and body["cleared_seq"] == 0


def test_changes_pages_by_version(chat, alice, client_for):
    messages(chat, alice, 5)
    api = client_for(alice)
    page = api.get(f"/api/v1/chats/{chat.pk}/changes?since=0&limit=2").json()
    assert [m["seq"] for m in page["messages"]] == [1, 2] and page["has_more"] is True
    rest = api.get(f"/api/v1/chats/{chat.pk}/changes?since={page['version']}").json()
    assert [m["seq"] for m in rest["messages"]] == [3, 4, 5] and rest["has_more"] is False


@pytest.mark.parametrize("query", ["?since=x", "?since=-1", "?limit=0", "?limit=a"])
def test_bad_changes_queries_are_400(chat, alice, client_for, query):
    assert client_for(alice).get(f"/api/v1/chats/{chat.pk}/changes{query}").status_code == 400


# --- One message ----------------------------------------------------------------------------


def test_editing_through_the_api(chat, alice, bob, client_for):
    message = send(chat, alice, "first")
    url = f"/api/v1/messages/{message.pk}"
    assert client_for(bob).patch(url, {"content": "x"}, format="json").status_code == 403
    response = client_for(alice).patch(url, {"content": "second"}, format="json")
    assert response.status_code == 200 and response.json()["edited_at"] is not None
    assert client_for(alice).patch(url, {"content": " "}, format="json").status_code == 400
    edits = client_for(bob).get(f"{url}/history").json()
    assert [edit["content"] for edit in edits] == ["first"] and edits[0]["edited_at"]


def test_a_deleted_message_is_a_tombstone_that_cannot_be_edited_or_reacted_to(
    chat, alice, client_for
):
    message = send(chat, alice, "secret")
    api = client_for(alice)
    url = f"/api/v1/messages/{message.pk}"
    assert api.delete(url).status_code == 204
    tombstone = api.get(url)
    assert tombstone.status_code == 200
    assert tombstone.json()["is_deleted"] is True and tombstone.json()["content"] == ""
    assert api.patch(url, {"content": "x"}, format="json").status_code == 409
    assert api.post(f"{url}/reactions", {"emoji": "👍"}, format="json").status_code == 409
    assert api.get(f"{url}/history").json() == []
    assert api.delete(url).status_code == 204


def test_reactions_through_the_api(chat, alice, bob, client_for):
    message = send(chat, alice)
    url = f"/api/v1/messages/{message.pk}/reactions"
    api = client_for(bob)
    added = api.post(url, {"emoji": "👍"}, format="json")
    assert added.status_code == 200
    assert added.json()["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [str(bob.pk)]}]
    assert api.post(url, {"emoji": "👍"}, format="json").json() == added.json()
    assert api.post(url, {"emoji": "a b"}, format="json").status_code == 400
    assert api.post(url, {}, format="json").status_code == 400
    assert api.delete(url).status_code == 400
    removed = api.delete(f"{url}?emoji=👍")
    assert removed.status_code == 200 and removed.json()["reactions"] == []
    assert api.delete(f"{url}?emoji=👍").status_code == 200


def test_receipts_list_other_members_who_read_the_message(alice, bob, charlie, client_for):
    chat = group_chat(alice, bob, charlie)
    message = send(chat, alice)
    later = send(chat, alice)
    url = f"/api/v1/messages/{message.pk}/receipts"
    assert client_for(alice).get(url).json() == []
    chat_mark_read(chat_id=chat.pk, user=bob, seq=later.seq)
    receipts = client_for(alice).get(url).json()
    assert [r["user_id"] for r in receipts] == [str(bob.pk)] and receipts[0]["read_at"]


def test_reporting_twice_is_409(chat, alice, bob, client_for):
    message = send(chat, alice)
    url = f"/api/v1/messages/{message.pk}/report"
    api = client_for(bob)
    created = api.post(url, {"reason": "spam"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "open"
    assert api.post(url, {"reason": "spam"}, format="json").status_code == 409
    assert client_for(alice).post(url, {"reason": ""}, format="json").status_code == 400


# --- Search ---------------------------------------------------------------------------------


def search(client, query):
    return client.get(f"/api/v1/messages/search{query}")


def test_search_matches_every_word_newest_first_in_the_callers_chats(
    chat, alice, bob, charlie, client_for
):
    older = send(chat, alice, "the quick brown fox")
    newer = send(chat, bob, "a fox, quick as ever")
    send(chat, alice, "only quick")
    send(group_chat(charlie), charlie, "quick fox elsewhere")
    found = search(client_for(alice), "?q=quick fox").json()
    assert [m["id"] for m in found["results"]] == [newer.pk, older.pk]
    assert found["has_more"] is False


def test_search_pages_with_before_and_limit(chat, alice, client_for):
    sent = [send(chat, alice, f"needle {n}") for n in range(3)]
    api = client_for(alice)
    page = search(api, "?q=needle&limit=2").json()
    assert [m["id"] for m in page["results"]] == [sent[2].pk, sent[1].pk] and page["has_more"]
    rest = search(api, f"?q=needle&before={sent[1].pk}").json()
    assert [m["id"] for m in rest["results"]] == [sent[0].pk] and not rest["has_more"]


def test_search_skips_tombstones_and_can_be_limited_to_a_chat(chat, alice, client_for):
    deleted = send(chat, alice, "needle gone")
    message_delete(message_id=deleted.pk, actor=alice)
    kept = send(chat, alice, "needle here")
    send(group_chat(alice), alice, "needle elsewhere")
    found = search(client_for(alice), f"?q=needle&chat_id={chat.pk}").json()["results"]
    assert [m["id"] for m in found] == [kept.pk]


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20", "?q=a&limit=0", "?q=a&chat_id=x"])
def test_bad_searches_are_400(alice, client_for, query):
    assert search(client_for(alice), query).status_code == 400


def test_a_send_is_stored_and_answered_201_while_the_channel_layer_is_down(
    chat, alice, client_for, settings, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_timeout": 0.5}]},
        }
    }
    failures = PublishStats.failures
    with django_capture_on_commit_callbacks(execute=True):
        response = post_message(client_for(alice), chat, content="stored anyway")
    assert response.status_code == 201 and PublishStats.failures == failures + 1
    body = client_for(alice).get(f"/api/v1/chats/{chat.pk}/changes?since=0").json()
    assert [m["content"] for m in body["messages"]] == ["stored anyway"]
