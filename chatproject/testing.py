"""Real daphne processes and real socket clients, for end-to-end and browser tests."""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

BASE_DIR = Path(settings.BASE_DIR)
READY_LINE = "Listening on TCP address"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, every=0.1):
    """The first truthy value of `condition()`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        time.sleep(every)


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class DaphneProcess:
    """One server process on a free loopback port; stopped with `stop()`."""

    env: dict
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    output: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def start(self) -> "DaphneProcess":
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        command += ["--ping-interval", "20", "--ping-timeout", "30", "-v", "1"]
        self.process = subprocess.Popen(
            [*command, "chatproject.asgi:application"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in self.process.stdout:
            self.output.append(line)
            if READY_LINE in line:
                # Keep reading: a full pipe would block the server's logging, and its loop.
                self._reader = threading.Thread(target=self._read_output, daemon=True)
                self._reader.start()
                return self
        raise RuntimeError("daphne did not start:\n" + "".join(self.output))

    def _read_output(self) -> None:
        self.output.extend(self.process.stdout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> str:
        """Stop the process; everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(timeout=10)
        return "".join(self.output)


def server_env(**overrides) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        REDIS_PREFIX=settings.REDIS_PREFIX,
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="1",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def http(method: str, url: str, *, token: str | None = None, body: dict | None = None):
    """(status, parsed JSON body) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


class SocketClient:
    """A WebSocket client that reads events with a deadline (never a sleep)."""

    def __init__(self, ws_url: str, token: str, *, as_subprotocol: bool = False, **kwargs):
        """The token goes in the query string, or `as_subprotocol` (`bearer, <token>`)."""
        if as_subprotocol:
            kwargs["subprotocols"] = ["bearer", token]
        else:
            ws_url = f"{ws_url}?token={token}"
        # legacy=True: a plain connection the test closes itself, not a context manager.
        self.ws = connect(ws_url, open_timeout=10, legacy=True, **kwargs)

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def next_event(self, timeout: float = 10) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def next_of_type(self, event_type: str, timeout: float = 10, **fields) -> dict:
        """The next event of `event_type` (with those `fields`), passing over others."""
        while True:
            event = self.next_event(timeout)
            if event["type"] == event_type and fields.items() <= event.items():
                return event

    def close(self) -> None:
        self.ws.close()


def websocket_by_hand(server: DaphneProcess, token: str, *, receive_buffer: int | None = None):
    """A plain socket that sends a WebSocket handshake and then does only what the test does
    with it: it reads nothing and answers no ping or close by itself. `receive_buffer`
    shrinks its kernel receive buffer (for a client that stalls)."""
    raw = socket.socket()
    if receive_buffer is not None:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /ws/?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return raw


@dataclass
class PrivateRedis:
    """A redis-server of the test's own on a free port, to stop and restart at will."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        """Start (again, empty, on the same port) and return once it accepts connections."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--logfile", ""]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self._answers, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port).

    PostgreSQL refuses to run as root, so as root the cluster belongs to `postgres`.
    """

    def __init__(self, database: str = "chat_faults"):
        self.port = free_port()
        self.database = database
        self.directory = Path(tempfile.mkdtemp(prefix="chat-pg-"))
        self._run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._run_as:
            shutil.chown(self.directory, "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, tool: str, *args: str) -> None:
        bindir = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
        command = [*self._run_as, str(Path(bindir) / tool), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def create(self) -> "PrivatePostgres":
        """initdb, start, create the database and migrate it."""
        self._run("initdb", "-D", str(self.directory / "data"), "-U", "postgres", "-A", "trust")
        self.start()
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database
        )
        manage = [sys.executable, "manage.py", "migrate", "--noinput"]
        env = dict(os.environ, DATABASE_URL=self.url)
        subprocess.run(manage, cwd=BASE_DIR, env=env, check=True, capture_output=True, timeout=120)
        return self

    def start(self) -> None:
        """Start and wait (`pg_ctl -w`) until it accepts connections."""
        options = f"-p {self.port} -k {self.directory} -h 127.0.0.1 -c fsync=off"
        log = str(self.directory / "log")
        self._run(
            "pg_ctl", "start", "-w", "-D", str(self.directory / "data"), "-l", log, "-o", options
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.directory / "data"))

    def destroy(self) -> None:
        if (self.directory / "data" / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def print_figure(config, line: str) -> None:
    """Print `line` in the test run's output, past pytest's capture (the fuzz tests' figures)."""
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        config.pluginmanager.getplugin("terminalreporter").write_line(line)
