"""Instructions per REST request, in process, counted by valgrind: the measure for A/B
comparisons of code on a machine whose timings are too noisy for them.

    .venv/bin/python bench/instructions.py                   # chat list and history
    .venv/bin/python bench/instructions.py --endpoints "chat sync (500 chats)" --requests 100

On the REST benchmark's data (run bench/rest.py --messages 1000000 once to seed it), with
the token and `gc.freeze()` as daphne has them. Each endpoint runs in two processes under
`valgrind --tool=cachegrind --cache-sim=no`, one making only the warm-up requests and one
making them and `--requests` more; the difference of their counts, divided by `--requests`,
is the cost of one request in this process: Django, DRF, the service's code and psycopg's
parsing. PostgreSQL's and Redis' own work is not in it. The same code counts the same to
within about 1 % from one run to the next, where its timings here vary by a third.

`--endpoints "socket connect"` counts a socket's connect, its `initial_data` and its
disconnect instead, through Channels' test communicator and the service's ASGI application,
for users of bench/connections.py (run it once; each is in one group of 10).
"""

import argparse
import asyncio
import gc
import os
import random
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import rest

DEFAULT_ENDPOINTS = ["chat list (500 chats, limit 100)", "history latest"]
SOCKET_CONNECT = "socket connect"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", nargs="+", default=DEFAULT_ENDPOINTS, metavar="NAME")
    parser.add_argument("--requests", type=int, default=50, help="counted per endpoint")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--messages", type=int, default=1_000_000, help="as seeded by rest.py")
    parser.add_argument("--name", default="instructions", help="result file name (.json)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def child(endpoint: str, requests: int, args) -> None:
    """Under valgrind: the warm-up and then `requests` requests to `endpoint`."""
    if endpoint == SOCKET_CONNECT:
        socket_connects(args.warmup + requests, users=args.warmup + args.requests)
        return
    common.django_setup()
    from rest_framework.test import APIClient

    big = rest.seeded(args.messages)
    method, path_of, _ = rest.endpoints(big, args.messages)[endpoint]
    if big is None or method != "GET":
        raise SystemExit(f"{endpoint}: needs bench/rest.py's data and a GET endpoint")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {common.access_tokens([rest.busy_user()])[0]}")
    random.seed(0)
    gc.freeze()
    for _ in range(args.warmup + requests):
        response = client.get(path_of())
        if response.status_code != 200:
            raise SystemExit(f"{endpoint}: {response.status_code}")


def socket_connects(count: int, *, users: int) -> None:
    """`count` sockets opened one after another, each closed once `initial_data` came. Both
    runs log in as many `users` (only the connects differ), each keeps its presence under a
    Redis prefix of its own, and no user expires or goes offline while it counts: what each
    connect reads and announces is the same in every run."""
    common.database_use(common.SOCKETS_DATABASE)
    common.REDIS_PREFIX = common.SERVER_ENV["REDIS_PREFIX"] = f"bench-count-{os.getpid()}"
    os.environ["PRESENCE_GRACE_SECONDS"] = os.environ["PRESENCE_TTL_SECONDS"] = "3600"
    common.django_setup()
    from channels.testing import WebsocketCommunicator

    from accounts.models import User
    from chatproject.asgi import application

    members = User.objects.filter(memberships__isnull=False).order_by("username")
    tokens = common.access_tokens(list(members[:users]))
    if len(tokens) < users:
        raise SystemExit(f"{SOCKET_CONNECT}: needs bench/connections.py's users")

    async def connect_each():
        for token in tokens[:count]:
            socket = WebsocketCommunicator(application, f"/ws/?token={token}")
            connected, _ = await socket.connect(timeout=30)
            first = await socket.receive_json_from(timeout=30) if connected else {}
            if first.get("type") != "initial_data":
                raise SystemExit(f"{SOCKET_CONNECT}: no initial_data")
            await socket.disconnect()

    try:
        asyncio.run(connect_each())
    finally:
        common.redis_clear()


def instructions(endpoint: str, requests: int, args) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
    command += ["--cachegrind-out-file=/dev/null", common.PYTHON, __file__]
    command += ["--child", str(requests), "--endpoints", endpoint]
    command += ["--warmup", str(args.warmup), "--requests", str(args.requests)]
    command += ["--messages", str(args.messages)]
    run = subprocess.run(command, env=common.server_env(), capture_output=True, text=True)
    counted = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode or not counted:
        raise SystemExit(f"{endpoint}: valgrind failed\n{run.stderr[-2000:]}")
    return int(counted.group(1).replace(",", ""))


def per_request(endpoint: str, args) -> int:
    """Both runs at once, one per core."""
    with ThreadPoolExecutor(2) as pool:
        base, loaded = pool.map(lambda n: instructions(endpoint, n, args), (0, args.requests))
    return round((loaded - base) / args.requests)


def main():
    args = parse_args()
    if args.child is not None:
        child(args.endpoints[0], args.child, args)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    results = {}
    for endpoint in args.endpoints:
        common.say(f"{endpoint}: counting {args.warmup} + {args.requests} requests")
        results[endpoint] = per_request(endpoint, args)
        common.say(f"{endpoint:<34} {results[endpoint] / 1e6:.1f} M instructions per request")
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=common.BASE_DIR,
        capture_output=True,
        text=True,
    ).stdout.strip()
    common.result_write(
        args.name,
        {"settings": vars(args), "revision": revision, "instructions_per_request": results},
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
