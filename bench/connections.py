"""Idle sockets: hold N authenticated sockets on one daphne process, report its RSS per
socket and its CPU at idle, then drop them all and time the reconnect storm.

    .venv/bin/python bench/connections.py                   # quick: 2,000 sockets
    .venv/bin/python bench/connections.py --sockets 10000   # the target
"""

import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import loadgen
from websockets.exceptions import InvalidHandshake


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--chat-size", type=int, default=10, help="each user is in one group")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument("--idle", type=float, default=10, help="seconds of idle measured")
    return parser.parse_args()


def users_create(count: int, chat_size: int) -> list:
    """`count` users in groups of `chat_size` (presence goes to real contacts)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from chats.services import group_create

    run = f"c{int(time.time()) % 10**6}"
    password = make_password("bench-password-123")
    names = [f"{run}u{i}" for i in range(count)]
    User.objects.bulk_create(
        [User(username=n, email=f"{n}@bench.test", password=password) for n in names],
        batch_size=2000,
    )
    users = list(User.objects.filter(username__in=names).order_by("username"))
    for start in range(0, count, chat_size):
        part = users[start : start + chat_size]
        if len(part) > 1:
            group_create(creator=part[0], name=f"{run} {start}", member_ids=[u.pk for u in part])
    return users


async def connect_all(urls: list[str], concurrency: int) -> tuple[list, list[float], int]:
    """Open every socket (initial_data received); the sockets, each one's finish time and the
    handshakes retried. Like a real client, a socket whose handshake daphne refused (it
    drops those not accepted within --websocket_connect_timeout, 5 s) retries after a pause."""
    limit = asyncio.Semaphore(concurrency)
    done: list[float] = []
    retries = 0

    async def one(url):
        nonlocal retries
        async with limit:
            for attempt in range(8):
                try:
                    ws = await loadgen.open_socket({"url": url})
                    done.append(time.monotonic())
                    return ws
                except (OSError, TimeoutError, InvalidHandshake):
                    retries += 1
                    await asyncio.sleep(0.5 * (attempt + 1))
            raise RuntimeError("could not connect")

    sockets = await asyncio.gather(*(one(url) for url in urls))
    return sockets, done, retries


async def client(urls, concurrency, commands, answers) -> None:
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    sockets, done, retries = await connect_all(urls, concurrency)
    answers.put(
        {
            "connect_s": time.monotonic() - start,
            "done": [t - start for t in done],
            "retries": retries,
        }
    )
    await loop.run_in_executor(None, commands.get)  # drop
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    answers.put("dropped")
    storm_start = await loop.run_in_executor(None, commands.get)  # reconnect
    await asyncio.sleep(max(0.0, storm_start - time.monotonic()))
    sockets, done, retries = await connect_all(urls, concurrency)
    answers.put(
        {
            "connect_s": time.monotonic() - storm_start,
            "done": [t - storm_start for t in done],
            "retries": retries,
        }
    )
    await loop.run_in_executor(None, commands.get)  # finish
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def client_main(urls, concurrency, commands, answers) -> None:
    common.raise_file_limit()
    asyncio.run(client(urls, concurrency, commands, answers))


def plot(first: list[float], storm: list[float]) -> Path:
    plt = common.pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for label, times in (("first connect", first), ("reconnect storm", storm)):
        ordered = sorted(times)
        axis.plot(ordered, range(1, len(ordered) + 1), label=label)
    axis.set(title="Sockets open (initial_data received) over time", xlabel="s", ylabel="sockets")
    axis.legend()
    figure.tight_layout()
    path = common.plot_path("connections")
    figure.savefig(path, dpi=80)
    return path


def main():
    args = parse_args()
    common.raise_file_limit()
    common.database_use(common.SOCKETS_DATABASE)
    common.say(f"preparing {common.DATABASE_NAME}")
    common.database_prepare()
    common.django_setup()
    common.redis_clear()
    common.say(f"creating {args.sockets} users and their tokens")
    users = users_create(args.sockets, args.chat_size)
    tokens = common.access_tokens(users)
    common.vacuum_analyze()
    server = common.Server()
    try:
        result = measure(server, tokens, args)
    finally:
        server.stop()
    result["settings"] = vars(args)
    common.result_write("connections", result)


def measure(server, tokens, args) -> dict:
    time.sleep(2)
    rss_before = server.rss_kb()
    urls = [f"{server.ws_url}?token={t}" for t in tokens]
    ctx = multiprocessing.get_context("spawn")
    commands, answers = ctx.Queue(), ctx.Queue()
    clients = [
        ctx.Process(
            target=client_main, args=(urls[i :: args.workers], args.concurrency, commands, answers)
        )
        for i in range(args.workers)
    ]
    for process in clients:
        process.start()
    first = [answers.get(timeout=600) for _ in clients]
    common.say(f"{args.sockets} sockets open in {max(a['connect_s'] for a in first):.1f} s")
    time.sleep(3)  # let the connect work settle
    rss_after = server.rss_kb()
    cpu_before = server.cpu_seconds()
    time.sleep(args.idle)
    idle_cpu = (server.cpu_seconds() - cpu_before) / args.idle
    per_socket = (rss_after - rss_before) / args.sockets
    common.say(
        f"RSS {rss_before} → {rss_after} KB: {per_socket:.1f} KB per socket; "
        f"idle CPU {idle_cpu:.3f} cores"
    )
    for _ in clients:
        commands.put("drop")
    for _ in clients:
        answers.get(timeout=120)
    time.sleep(args.idle / 2)  # presence grace and group cleanup
    start = time.monotonic() + 0.5
    for _ in clients:
        commands.put(start)
    storm = [answers.get(timeout=600) for _ in clients]
    storm_s = max(a["connect_s"] for a in storm)
    common.say(f"reconnect storm: {args.sockets} sockets back in {storm_s:.1f} s")
    for _ in clients:
        commands.put("finish")
    for process in clients:
        process.join(timeout=60)
    first_times = [t for a in first for t in a["done"]]
    storm_times = [t for a in storm for t in a["done"]]
    plot(first_times, storm_times)
    return {
        "sockets": args.sockets,
        "first_connect_s": round(max(a["connect_s"] for a in first), 2),
        "first_connect_retries": sum(a["retries"] for a in first),
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "rss_per_socket_kb": round(per_socket, 1),
        "idle_cpu_cores": round(idle_cpu, 3),
        "reconnect_storm_s": round(storm_s, 2),
        "reconnect_storm_retries": sum(a["retries"] for a in storm),
        "rss_after_storm_kb": server.rss_kb(),
    }


if __name__ == "__main__":
    main()
