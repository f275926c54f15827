"""Who may do what, on every REST route and socket frame (API.md).

The routes come from the URL conf (chatproject/tests/routes.py: everything under /api/v1/
and /files/, with every HTTP method its view has) and the frames from
messaging.socket_actions.HANDLERS: a route, method or frame without an entry in ROUTES or
FRAMES fails `test_every_route_and_frame_has_a_rule`.

Each is tried by a user in every role of chatproject/tests/world.py, on the group and on the
direct chat when it is about a chat or a message. What a role gets, from its rule:
- ANYONE: success for every role, anonymous callers included;
- otherwise an anonymous caller gets 401;
- USERS: success for any signed-in user; STAFF: 403 for everyone here (none is staff);
- about a chat or its messages: 404 for a non-member and a removed member (never 403: ids
  cannot be probed); MEMBERS succeed; OWNER actions (group admin, or the message's sender)
  are 403 for a member; `direct=` is the rule on a direct chat where it differs
  (GROUP_ONLY: 400, a direct chat has no settings or members to manage).
A refused request or frame must leave every stored row as it was.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.urls import reverse

from accounts.models import Session, User
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from chatproject.tests.routes import route_methods
from chatproject.tests.sockets import next_of_type, open_socket, replies_to
from chatproject.tests.world import (
    ANONYMOUS,
    FAST_HASHERS,
    NEW_PASSWORD,
    NON_MEMBER,
    OWNER,
    PHRASE,
    REMOVED,
    ROLES,
    Target,
    World,
    build_world,
    png_upload,
)
from chats.models import Chat, Membership, ReadMark
from messaging.models import Attachment, Message, MessageEdit, Reaction, Report
from messaging.socket_actions import HANDLERS

ANYONE, USERS, STAFF, MEMBERS, OWNERS, GROUP_ONLY = (
    "anyone",
    "users",
    "staff",
    "members",
    "owners",
    "group-only",
)
CHAT_SCOPED = {MEMBERS, OWNERS}
OK = "2xx"


@dataclass(frozen=True)
class Rule:
    who: str
    direct: str | None = None  # the rule on a direct chat, where it differs


@dataclass
class Req:
    data: dict | None = None
    query: dict | None = None
    multipart: bool = False


Call = Callable[[World, Target, str], Req]


def nothing(world: World, target: Target, role: str) -> Req:
    return Req()


def body(**data) -> Call:
    return lambda world, target, role: Req(data)


def own_credentials(world: World, target: Target, role: str) -> Req:
    return Req({"username": world.users[role].username, "password": TEST_PASSWORD})


def own_refresh(world: World, target: Target, role: str) -> Req:
    return Req({"refresh": world.tokens[role]["refresh"]})


def own_recovery(world: World, target: Target, role: str) -> Req:
    username = world.users[role].username
    return Req({"username": username, "security_phrase": PHRASE, "new_password": NEW_PASSWORD})


def avatar(world: World, target: Target, role: str) -> Req:
    return Req({"avatar": png_upload()}, multipart=True)


def search_in_chat(world: World, target: Target, role: str) -> Req:
    return Req(query={"q": "hello", "chat_id": target.chat.pk})


def add_charlie(world: World, target: Target, role: str) -> Req:
    return Req({"user_ids": [str(world.users[NON_MEMBER].pk)]})


GROUP_ADMINS = Rule(OWNERS, direct=GROUP_ONLY)

# (route name, method) -> (rule, the request a role sends). Path ids: the target chat, its
# message, erin (a group member) for user ids, the group attachment's file token.
ROUTES: dict[tuple[str, str], tuple[Rule, Call]] = {
    ("info", "get"): (Rule(ANYONE), nothing),
    ("file", "get"): (Rule(ANYONE), nothing),  # the signed link is the capability
    ("auth-register", "post"): (
        Rule(ANYONE),
        body(username="newcomer", email="newcomer@example.com", password=NEW_PASSWORD),
    ),
    ("auth-login", "post"): (Rule(ANYONE), own_credentials),
    ("auth-refresh", "post"): (Rule(ANYONE), own_refresh),
    ("auth-recover", "post"): (Rule(ANYONE), own_recovery),
    ("auth-logout", "post"): (Rule(USERS), own_refresh),
    ("auth-password", "post"): (
        Rule(USERS),
        body(old_password=TEST_PASSWORD, new_password=NEW_PASSWORD),
    ),
    ("user-list", "get"): (Rule(USERS), lambda w, t, r: Req(query={"search": "er"})),
    ("user-me", "get"): (Rule(USERS), nothing),
    ("user-me", "patch"): (Rule(USERS), body(bio="hello")),
    ("user-me", "delete"): (Rule(USERS), body(password=TEST_PASSWORD)),
    ("user-phrase", "put"): (
        Rule(USERS),
        body(password=TEST_PASSWORD, security_phrase="another long phrase"),
    ),
    ("user-avatar", "put"): (Rule(USERS), avatar),
    ("user-avatar", "delete"): (Rule(USERS), nothing),
    ("user-online", "get"): (Rule(USERS), nothing),
    ("user-detail", "get"): (Rule(USERS), nothing),
    ("ws-stats", "get"): (Rule(STAFF), nothing),
    ("chat-list", "get"): (Rule(USERS), nothing),
    ("chat-list", "post"): (Rule(USERS), body(type="group", name="New", member_ids=[])),
    ("chat-sync", "get"): (Rule(USERS), nothing),
    ("chat-detail", "get"): (Rule(MEMBERS), nothing),
    ("chat-detail", "patch"): (GROUP_ADMINS, body(name="Renamed")),
    ("chat-detail", "delete"): (Rule(OWNERS, direct=MEMBERS), nothing),  # direct: hides
    ("chat-avatar", "put"): (GROUP_ADMINS, avatar),
    ("chat-avatar", "delete"): (GROUP_ADMINS, nothing),
    ("chat-leave", "post"): (Rule(MEMBERS, direct=GROUP_ONLY), nothing),
    ("chat-members", "get"): (Rule(MEMBERS, direct=GROUP_ONLY), nothing),
    ("chat-members", "post"): (GROUP_ADMINS, add_charlie),
    ("chat-member", "patch"): (GROUP_ADMINS, body(role="admin")),
    ("chat-member", "delete"): (GROUP_ADMINS, nothing),  # erin: only admins remove others
    ("chat-read", "post"): (Rule(MEMBERS), body(seq=1)),
    ("chat-online", "get"): (Rule(MEMBERS), nothing),
    ("chat-messages", "get"): (Rule(MEMBERS), nothing),
    ("chat-messages", "post"): (Rule(MEMBERS), body(content="hi")),
    ("chat-changes", "get"): (Rule(MEMBERS), lambda w, t, r: Req(query={"since": 0})),
    ("message-search", "get"): (Rule(MEMBERS), search_in_chat),
    ("message-detail", "get"): (Rule(MEMBERS), nothing),
    ("message-detail", "patch"): (Rule(OWNERS), body(content="edited")),  # the sender
    ("message-detail", "delete"): (Rule(OWNERS), nothing),  # the sender or a group admin
    ("message-reactions", "post"): (Rule(MEMBERS), body(emoji="🎉")),
    ("message-reactions", "delete"): (Rule(MEMBERS), lambda w, t, r: Req(query={"emoji": "👍"})),
    ("message-receipts", "get"): (Rule(MEMBERS), nothing),
    ("message-history", "get"): (Rule(MEMBERS), nothing),
    ("message-report", "post"): (Rule(MEMBERS), body(reason="spam")),
}

FRAMES: dict[str, tuple[Rule, Callable[[Target, str], dict]]] = {
    "ping": (Rule(USERS), lambda target, role: {}),
    "typing": (Rule(MEMBERS), lambda target, role: {"is_typing": True}),
    "send_message": (
        Rule(MEMBERS),
        lambda target, role: {"content": "hi", "client_id": f"{role}-{target.name}"},
    ),
    "mark_read": (Rule(MEMBERS), lambda target, role: {"seq": 1}),
}


# --- Generating the checks ----------------------------------------------------------------


def expected(rule: Rule, role: str, target: Target | None) -> str | int:
    who = rule.direct if target is not None and target.chat.is_direct and rule.direct else rule.who
    if who == ANYONE:
        return OK
    if role == ANONYMOUS:
        return 401
    if who == USERS:
        return OK
    if who == STAFF:
        return 403
    if role in (NON_MEMBER, REMOVED):
        return 404
    if who == GROUP_ONLY:
        return 400
    return OK if who == MEMBERS or role == OWNER else 403


def targets_of(rule: Rule, world: World) -> list[Target | None]:
    return world.targets if rule.who in CHAT_SCOPED else [None]


def stored_state() -> list:
    """Every row a request could touch, as comparable values."""
    tables = [
        (User, ["id", "username", "email", "is_active", "is_staff", "password", "security_phrase"]),
        (User, ["avatar", "bio", "full_name", "status", "mobile_no", "last_seen"]),
        (Session, ["sid", "ended_at", "refresh_jti"]),
        (Chat, ["id", "type", "name", "description", "avatar", "last_seq", "version"]),
        (Membership, ["chat_id", "user_id", "role", "last_read_seq", "cleared_seq", "is_hidden"]),
        (Message, ["id", "seq", "version", "sender_id", "content", "is_deleted", "edited_at"]),
        (Reaction, ["message_id", "user_id", "emoji"]),
        (Report, ["message_id", "reporter_id", "status"]),
        (MessageEdit, ["message_id", "content"]),
        (ReadMark, ["chat_id", "user_id", "seq"]),
        (Attachment, ["message_id", "file"]),
    ]
    return [list(model.objects.order_by("pk").values_list(*fields)) for model, fields in tables]


# --- REST -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    check: str
    expected: str | int
    status: int
    changed: bool

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300

    @property
    def right(self) -> bool:
        got = OK if self.succeeded else self.status
        return got == self.expected and not (self.expected != OK and self.changed)


@pytest.fixture
def world(db, settings):
    settings.THROTTLE_AUTH = settings.THROTTLE_SEND = "100000/min"
    settings.PASSWORD_HASHERS = FAST_HASHERS  # hundreds of logins and password checks
    world = build_world()
    world.open_sessions()
    return world


def request(client, method: str, path: str, req: Req):
    if req.query:
        path = f"{path}?{urlencode(req.query)}"
    if req.data is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, req.data, format="multipart" if req.multipart else "json")


def path_of(name: str, parameters: list[str], world: World, target: Target) -> str:
    values = {
        "chat_id": target.chat.pk,
        "message_id": target.message.pk,
        "user_id": world.erin.pk,
        "token": world.file_token(),
    }
    return reverse(name, kwargs={key: values[key] for key in parameters})


def rest_outcome(world: World, route: tuple, role: str, target: Target | None) -> Outcome:
    (name, method), parameters = route
    rule, call = ROUTES[(name, method)]
    target_or_group = target or world.group
    path = path_of(name, parameters, world, target_or_group)
    req = call(world, target_or_group, role)
    want = expected(rule, role, target)
    refused = want != OK
    with transaction.atomic():
        before = stored_state() if refused else None
        response = request(world.client(role), method, path, req)
        changed = refused and stored_state() != before
        transaction.set_rollback(True)  # every check starts from the same world
    where = f" on the {target.name} chat" if target else ""
    return Outcome(f"{method.upper()} {name}{where} as {role}", want, response.status_code, changed)


def rest_checks(world: World):
    for route in route_methods().items():
        rule, _ = ROUTES[route[0]]
        for target in targets_of(rule, world):
            for role in ROLES:
                yield route, role, target


def test_every_route_and_frame_has_a_rule():
    found = set(route_methods())
    assert sorted(found - set(ROUTES)) == [], "routes without a rule in ROUTES"
    assert sorted(set(ROUTES) - found) == [], "rules for routes that do not exist"
    assert sorted(HANDLERS) == sorted(FRAMES), "socket frames and FRAMES differ"


def test_no_role_gets_more_than_api_md_allows_on_any_route(world):
    outcomes = [rest_outcome(world, *check) for check in rest_checks(world)]
    unauthorised, wrong = summary("REST", outcomes, f"{len(route_methods())} routes x methods")
    assert unauthorised == []
    assert wrong == []


def test_staff_see_socket_stats(world, client_for):
    # No password: the factory's cached hash must not be made with the fast test hasher.
    staff = client_for(UserFactory(username="operator", is_staff=True, password="!"))
    assert staff.get(reverse("ws-stats")).status_code == 200


def test_a_removed_member_loses_even_their_own_messages(world, client_for):
    dave = world.users[REMOVED]
    own = Message.objects.get(sender=dave, chat=world.group.chat)
    api = client_for(dave)
    base = f"/api/v1/messages/{own.pk}"
    assert api.get(base).status_code == 404
    assert api.patch(base, {"content": "mine"}, format="json").status_code == 404
    assert api.delete(base).status_code == 404
    assert api.delete(f"{base}/reactions?emoji=👀").status_code == 404
    assert api.get("/api/v1/messages/search", {"q": "dave"}).json()["results"] == []
    assert Message.objects.get(pk=own.pk).content == "dave was here"


# --- The socket -----------------------------------------------------------------------------


# A frame's answer as the status REST would give: an `error` code, or 401 for a socket that
# was closed (4401) for want of a token and ignores what it is sent.
FRAME_ERRORS = {"not_found": 404, "forbidden": 403, "invalid": 400}


async def frame_status(sockets, frame: dict, role: str) -> int:
    if role == ANONYMOUS:
        communicator = await open_socket(None)
        await communicator.send_json_to(frame)
        ignored = await communicator.receive_nothing(timeout=0.1)
        await communicator.disconnect()
        return 401 if ignored else 200
    errors = [r for r in await replies_to(sockets[role], frame) if r["type"] == "error"]
    return FRAME_ERRORS.get(errors[0]["code"], 500) if errors else 200


async def frame_outcome(world: World, sockets, frame_type: str, role: str, target) -> Outcome:
    rule, fields = FRAMES[frame_type]
    frame = {"type": frame_type, **fields(target or world.group, role)}
    if target is not None:
        frame["chat_id"] = str(target.chat.pk)
    before = await database_sync_to_async(stored_state)()
    status = await frame_status(sockets, frame, role)
    changed = await database_sync_to_async(stored_state)() != before
    where = f" on the {target.name} chat" if target else ""
    return Outcome(f"{frame_type}{where} as {role}", expected(rule, role, target), status, changed)


def summary(channel: str, outcomes: list[Outcome], what: str) -> tuple[list, list]:
    """The unauthorised successes and every other deviation, printed as the README's figures."""
    unauthorised = [o for o in outcomes if o.succeeded and o.expected != OK]
    wrong = [o for o in outcomes if not o.right]
    print(
        f"\n{channel}: {len(outcomes)} checks ({what}, {len(ROLES)} roles, chat-scoped ones on a"
        f" group and a direct chat): {len(unauthorised)} unauthorised successes,"
        f" {len(wrong)} deviations"
    )
    return unauthorised, wrong


@pytest.mark.django_db(transaction=True)
async def test_no_role_gets_more_than_api_md_allows_on_any_socket_frame(settings):
    settings.SOCKET_FRAME_RATE = "1000/s"
    settings.PASSWORD_HASHERS = FAST_HASHERS
    world = await database_sync_to_async(build_world)(remove_dave=False)
    await database_sync_to_async(world.open_sessions)()
    sockets = {
        role: await open_socket(world.tokens[role]["access"]) for role in ROLES if role != ANONYMOUS
    }
    try:
        await database_sync_to_async(world.remove_dave)()  # while dave's socket is open
        await next_of_type(sockets[REMOVED], "chat_deleted")
        outcomes = [
            await frame_outcome(world, sockets, frame_type, role, target)
            for frame_type, (rule, _) in FRAMES.items()
            for target in targets_of(rule, world)
            for role in ROLES
        ]
    finally:
        for communicator in sockets.values():
            await communicator.disconnect()
    unauthorised, wrong = summary("Socket", outcomes, f"{len(FRAMES)} frame types")
    assert unauthorised == []
    assert wrong == []
