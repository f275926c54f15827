"""What every benchmark shares: the bench database and environment, daphne processes started
as `make run` starts them, tokens, percentiles, machine facts and result files.

Benchmarks use their own PostgreSQL database (`chat_bench`, created here) and Redis prefix
(`bench`), so they never collide with the test suite or a running service. The socket
benchmarks move to `chat_bench_sockets` (`database_use`), so the messages and users they
add never change the seeded data the REST benchmark measures.
"""

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
PG_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE_NAME = "chat_bench"
SOCKETS_DATABASE = "chat_bench_sockets"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_PREFIX = "bench"
LOADAVG_AT_START = os.getloadavg()

# Production settings (DEBUG=0: no query log) with the rate limits lifted, so the figures
# measure the service's work and not its throttles (which still run on every send).
SERVER_ENV = {
    "DATABASE_URL": f"{PG_URL}/{DATABASE_NAME}",
    "REDIS_URL": REDIS_URL,
    "REDIS_PREFIX": REDIS_PREFIX,
    "DEBUG": "0",
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdefghijkl",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_HSTS_SECONDS": "0",
    "THROTTLE_AUTH": "100000000/min",
    "THROTTLE_SEND": "100000000/min",
    "SOCKET_FRAME_RATE": "1000000/s",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def raise_file_limit() -> int:
    """As many open files as the hard limit allows (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def database_use(name: str) -> None:
    """Benchmark on database `name` instead of chat_bench; call it before anything else."""
    global DATABASE_NAME
    DATABASE_NAME = name
    SERVER_ENV["DATABASE_URL"] = f"{PG_URL}/{name}"


def database_prepare(*, fresh: bool = False) -> None:
    """Create the database if absent (dropped first if `fresh`) and migrate it."""
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {DATABASE_NAME} WITH (FORCE)")
        if not exists or fresh:
            conn.execute(f"CREATE DATABASE {DATABASE_NAME}")
    manage("migrate", "--noinput", quiet=True)


def vacuum_analyze() -> None:
    """What autovacuum would have done before a benchmark measures: fresh planner statistics
    and no dead rows. Some PostgreSQL servers run without it (this machine's did): a
    database never analyzed plans each connect's contacts query as a scan of every
    membership, and the rows every earlier run's sends left dead (the chat's counters are
    rewritten by each send) slow every later run down."""
    import psycopg

    with psycopg.connect(f"{PG_URL}/{DATABASE_NAME}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def manage(*args: str, quiet: bool = False) -> None:
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=server_env(), check=True, stdout=output
    )


def server_env(**overrides) -> dict:
    return {**os.environ, **SERVER_ENV, **{k: str(v) for k, v in overrides.items()}}


def django_setup() -> None:
    """Django in this process, on the bench database (to create users and mint tokens)."""
    os.environ.update(SERVER_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def redis_clear() -> None:
    """Forget presence and throttle keys of earlier bench runs."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{REDIS_PREFIX}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One daphne process with the flags of the Makefile's `run` target. Its log goes to a
    file (a pipe nobody reads would fill and stall the server at its first traceback)."""

    def __init__(self, **env):
        self.port = free_port()
        command = [PYTHON, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--ping-interval", "20", "--ping-timeout", "30", "--websocket_timeout", "-1"]
        self.log = tempfile.NamedTemporaryFile(prefix=f"daphne-{self.port}-", suffix=".log")  # noqa: SIM115 (lives as long as the server)
        self.process = subprocess.Popen(
            [*command, "chatproject.asgi:application"],
            cwd=BASE_DIR,
            env=server_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.wait_ready()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("daphne exited:\n" + Path(self.log.name).read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("daphne did not start in 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log = Path(self.log.name).read_text()
        if "Traceback" in log:
            first = log[log.index("Traceback") :].split("\n\n")[0]
            say(f"daphne on port {self.port} logged {log.count('Traceback')} tracebacks, first:")
            say("\n".join(first.splitlines()[-12:]))
        self.log.close()

    def rss_kb(self) -> int:
        return proc_rss_kb(self.pid)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)


def proc_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def access_tokens(users) -> list[str]:
    """One login (session) per user, through the accounts service."""
    from accounts.services import session_start

    return [session_start(user=user)["access"] for user in users]


def percentiles(values: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds of latencies given in seconds."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(int(fraction * len(ordered)), len(ordered) - 1)] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(int(meminfo[1]) / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "loadavg_at_start": LOADAVG_AT_START,
    }


def result_write(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(), **data}
    data["machine"]["loadavg_at_end"] = os.getloadavg()
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    say(f"wrote {path.relative_to(BASE_DIR)}")
    return path


def plot_path(name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / f"{name}.png"


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
