"""REST endpoints on seed_demo data: history (latest, deep), changes, the chat list of a user
in 500 chats with unread counts, message send and search; p50/p99 per endpoint under
concurrent clients, against 2 daphne processes.

    .venv/bin/python bench/rest.py                       # quick: a chat of 100,000 messages
    .venv/bin/python bench/rest.py --messages 1000000    # the target: a chat of 1,000,000

The data is seeded once per size (seed_demo with prefix `rest`) and kept in chat_bench.
"""

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BUSY_USER = "restbusy"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="size of the big chat")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=6, help="seconds per endpoint")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--name", default="rest", help="result file name (.json, .png)")
    return parser.parse_args()


def seeded(size: int):
    from chats.models import Chat

    # At least `size`: the send benchmark adds to the user's chats, the big one included.
    chats = Chat.objects.filter(name="big", last_seq__gte=size, members__username=BUSY_USER)
    return chats.order_by("last_seq").first()


def seed(size: int):
    """A big chat of `size` messages plus a tenth more spread over 2,000 other chats, and
    BUSY_USER in the big chat and 500 groups."""
    big = seeded(size)
    if big:
        return big
    common.manage(
        "seed_demo",
        "--prefix",
        "rest",
        "--users",
        "2000",
        "--chats",
        "2000",
        "--messages",
        str(size + size // 10),
        "--big-chat-messages",
        str(size),
        "--chat-for-user",
        BUSY_USER,
        "--user-chats",
        "500",
        "--batch",
        "5000",
    )
    return seeded(size)


def query_counts(big) -> dict:
    """Queries per chat-list request at two page sizes (constant = no N+1)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {common.access_tokens([busy_user()])[0]}")
    counts = {}
    for path in (
        "/api/v1/chats?limit=10",
        "/api/v1/chats?limit=100",
        "/api/v1/chats/sync",
        f"/api/v1/chats/{big.pk}/messages?limit=10",
        f"/api/v1/chats/{big.pk}/messages?limit=100",
    ):
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code
        counts[path] = {"status": status, "queries": len(queries)}
    return counts


def busy_user():
    from accounts.models import User

    return User.objects.get(username=BUSY_USER)


def endpoints(big, size: int) -> dict:
    """name -> (method, a function giving a path, body)."""
    from chats.models import Membership

    chats = [
        str(c)
        for c in Membership.objects.filter(user=busy_user()).values_list("chat_id", flat=True)
    ]
    words = ["meeting", "deploy", "kaloze", "coffee tomorrow"]
    base = "/api/v1"
    return {
        "history latest": ("GET", lambda: f"{base}/chats/{big.pk}/messages?limit=50", None),
        "history deep (random before=)": (
            "GET",
            lambda: f"{base}/chats/{big.pk}/messages?limit=50&before={random.randint(51, size)}",
            None,
        ),
        "changes?since= (recent)": (
            "GET",
            lambda: f"{base}/chats/{big.pk}/changes?since={size - random.randint(1, 200)}",
            None,
        ),
        "changes?since= (deep)": (
            "GET",
            lambda: f"{base}/chats/{big.pk}/changes?since={random.randint(0, size)}&limit=200",
            None,
        ),
        "chat list (500 chats, limit 100)": ("GET", lambda: f"{base}/chats?limit=100", None),
        "chat sync (500 chats)": ("GET", lambda: f"{base}/chats/sync", None),
        "message send": (
            "POST",
            lambda: f"{base}/chats/{random.choice(chats)}/messages",
            lambda: {"content": "bench send", "client_id": uuid.uuid4().hex},
        ),
        "search": ("GET", lambda: f"{base}/messages/search?q={random.choice(words)}", None),
    }


async def hammer(urls, token, method, path_of, body_of, clients, duration) -> dict:
    import aiohttp

    latencies, statuses = [], {}
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + duration

    async def one_client(session, url):
        while time.monotonic() < deadline:
            started = time.monotonic()
            kwargs = {"json": body_of()} if body_of else {}
            async with session.request(
                method, url + path_of(), headers=headers, **kwargs
            ) as response:
                await response.read()
            latencies.append(time.monotonic() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(one_client(session, urls[i % len(urls)]) for i in range(clients)))
    return {
        **common.percentiles(latencies),
        "requests_per_s": round(len(latencies) / duration),
        "statuses": statuses,
        "_latencies": latencies,
    }


def plot(results: dict, file_name: str) -> Path:
    plt = common.pyplot()
    figure, axis = plt.subplots(figsize=(10, 5))
    names = list(results)
    axis.boxplot(
        [[v * 1000 for v in results[n]["_latencies"]] for n in names],
        whis=(1, 99),
        showfliers=False,
    )
    axis.set_xticks(range(1, len(names) + 1), names, rotation=25, ha="right", fontsize=8)
    axis.set(
        title="REST latency per endpoint (box: p25 to p75, whiskers: p1 to p99)",
        ylabel="ms",
        yscale="log",
    )
    figure.tight_layout()
    path = common.plot_path(file_name)
    figure.savefig(path, dpi=80)
    return path


def main():
    args = parse_args()
    common.say("preparing chat_bench")
    common.database_prepare()
    common.django_setup()
    big = seed(args.messages)
    common.vacuum_analyze()
    common.redis_clear()
    counts = query_counts(big)
    common.say(f"queries per request: {counts}")
    token = common.access_tokens([busy_user()])[0]
    servers = [common.Server() for _ in range(args.servers)]
    results = {}
    try:
        urls = [s.http_url for s in servers]
        for name, (method, path_of, body_of) in endpoints(big, args.messages).items():
            asyncio.run(hammer(urls, token, method, path_of, body_of, args.clients, 1))  # warm
            result = asyncio.run(
                hammer(urls, token, method, path_of, body_of, args.clients, args.duration)
            )
            results[name] = result
            common.say(
                f"{name:<34} p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms  "
                f"{result['requests_per_s']}/s  {result['statuses']}"
            )
    finally:
        for server in servers:
            server.stop()
    plot(results, args.name)
    for result in results.values():
        del result["_latencies"]
    common.result_write(
        args.name, {"settings": vars(args), "query_counts": counts, "endpoints": results}
    )


if __name__ == "__main__":
    main()
