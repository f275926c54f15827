"""Hostile uploads against a live daphne: every file of chatproject/tests/hostile_files.py as
an attachment, a user avatar and a group avatar, then the bombs and oversized bodies several
times over (with a Content-Length, and chunked without one), while a thread samples the
server's RSS. Prints the answers, the 5xx count and the peak RSS; writes
bench/results/fuzz_uploads.json.

    .venv/bin/python bench/fuzz_uploads.py
    .venv/bin/python bench/fuzz_uploads.py --rounds 5 --big-mb 1000

Its own database (`chat_fuzz`) and Redis prefix (`fuzz`).
"""

import argparse
import http.client
import select
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common

common.database_use("chat_fuzz")
common.SERVER_ENV.update(REDIS_PREFIX="fuzz")

from chatproject.tests.hostile_files import (  # noqa: E402
    BOUNDARY,
    MB,
    MULTIPART_TYPE,
    Hostile,
    catalogue,
    multipart_body,
)


def is_bomb_or_big(hostile: Hostile) -> bool:
    return "bomb" in hostile.label or hostile.kind == "too_large" or len(hostile.content) > MB


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each bomb is sent")
    parser.add_argument("--big-mb", type=int, default=300, help="size of the oversized bodies")
    return parser.parse_args()


class RssSampler(threading.Thread):
    """The process' RSS every 10 ms; `peak_kb` is the highest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak_kb = max(self.peak_kb, common.proc_rss_kb(self.pid))
            time.sleep(0.01)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak_kb


def fixtures() -> tuple[str, str]:
    """(a group chat id, its admin's access token)."""
    from accounts.tests.factories import UserFactory
    from chats.services import group_create

    run = f"f{int(time.time()) % 10**6}"
    admin, other = UserFactory(username=f"{run}a"), UserFactory(username=f"{run}b")
    chat = group_create(creator=admin, name="fuzz", member_ids=[other.pk])
    return str(chat.pk), common.access_tokens([admin])[0]


class Uploader:
    def __init__(self, server, token: str, chat_id: str):
        self.port, self.chat_id = server.port, chat_id
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": MULTIPART_TYPE}

    def targets(self) -> dict[str, tuple[str, str, str]]:
        return {
            "message": ("POST", f"/api/v1/chats/{self.chat_id}/messages", "file"),
            "user avatar": ("PUT", "/api/v1/users/me/avatar", "avatar"),
            "group avatar": ("PUT", f"/api/v1/chats/{self.chat_id}/avatar", "avatar"),
        }

    def send(self, target: str, hostile: Hostile) -> int:
        method, path, field = self.targets()[target]
        return self.request(method, path, multipart_body(field, hostile))

    def send_big(self, *, megabytes: int, chunked: bool) -> int:
        """A body of `megabytes` to the messages endpoint, sent 1 MB at a time until the server
        answers (a raw socket: http.client reads no answer before it sent the whole body)."""
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"'
        head += "\r\nContent-Type: application/octet-stream\r\n\r\n"
        pieces = [head.encode(), *(bytes(MB) for _ in range(megabytes))]
        pieces.append(f"\r\n--{BOUNDARY}--\r\n".encode())
        length = sum(len(piece) for piece in pieces)
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
        headers = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        request = f"POST /api/v1/chats/{self.chat_id}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=120) as sock:
            sock.sendall(f"{request}{headers}{framing}\r\n\r\n".encode())
            for piece in pieces + ([b""] if chunked else []):
                if select.select([sock], [], [], 0)[0]:
                    break  # answered early
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                except OSError:
                    break
            try:
                return int(sock.recv(4096).split(b" ", 2)[1])
            except (OSError, IndexError, ValueError):
                return 0

    def request(self, method: str, path: str, body: bytes) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body, self.headers)
            return connection.getresponse().status
        finally:
            connection.close()


def main() -> None:
    args = parse_args()
    common.database_prepare(fresh=True)
    common.django_setup()
    from django.conf import settings

    files = catalogue(settings.MAX_UPLOAD_BYTES, settings.MAX_AVATAR_BYTES)
    for hostile in files:
        hostile.content  # noqa: B018 -- made before the server's memory is watched
    chat_id, token = fixtures()
    with tempfile.TemporaryDirectory() as media:
        server = common.Server(MEDIA_ROOT=media)
        try:
            results = run(server, Uploader(server, token, chat_id), files, args)
        finally:
            server.stop()
    report(results)


def run(server, uploader: Uploader, files: list[Hostile], args) -> dict:
    answers: Counter = Counter()
    uploader.send("message", files[0])  # warm up: the first request imports the app's views
    idle_kb = server.rss_kb()
    sampler = RssSampler(server.pid)
    sampler.start()
    started = time.monotonic()
    for hostile in files:
        for target in uploader.targets():
            answers[f"{target} {uploader.send(target, hostile)}"] += 1
    bombs = [hostile for hostile in files if is_bomb_or_big(hostile)]
    for _ in range(args.rounds):
        for hostile in bombs:
            answers[f"bomb/oversize {uploader.send('message', hostile)}"] += 1
        for chunked in (False, True):
            status = uploader.send_big(megabytes=args.big_mb, chunked=chunked)
            answers[f"{args.big_mb} MB {'chunked' if chunked else 'with length'} {status}"] += 1
    return {
        "files": len(files),
        "requests": sum(answers.values()),
        "answers": dict(sorted(answers.items())),
        "idle_rss_mb": round(idle_kb / 1024, 1),
        "peak_rss_mb": round(sampler.stop() / 1024, 1),
        "seconds": round(time.monotonic() - started, 1),
        "bombs_and_oversized": [hostile.label for hostile in bombs],
        "big_body_mb": args.big_mb,
        "rounds": args.rounds,
    }


def report(results: dict) -> None:
    results["server_errors"] = sum(
        count for answer, count in results["answers"].items() if answer.split()[-1].startswith("5")
    )
    for answer, count in results["answers"].items():
        common.say(f"{answer}: {count}")
    common.say(
        f"{results['requests']} uploads of {results['files']} hostile files: "
        f"{results['server_errors']} server errors; daphne RSS {results['idle_rss_mb']} MB idle, "
        f"{results['peak_rss_mb']} MB at peak"
    )
    common.result_write("fuzz_uploads", results)


if __name__ == "__main__":
    main()
