"""Fan-out: groups of N members, S senders over the socket, every message stored.

Measures deliveries/s flat out and send→receive latency at fixed delivery rates, against 1
and 2 daphne processes on Redis, then the same workload against a bare `websockets`
broadcast server (no auth, no storage) as the ceiling; then groups of 100 at 10 messages/s.
The load generator runs in its own processes (bench/loadgen.py).

    .venv/bin/python bench/fanout.py                 # quick: ~3 minutes
    .venv/bin/python bench/fanout.py --duration 20   # longer phases
"""

import argparse
import asyncio
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import loadgen


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50, help="members per group")
    parser.add_argument("--groups", type=int, default=4, help="groups (disjoint members)")
    parser.add_argument("--senders", type=int, default=2, help="senders per group")
    parser.add_argument("--duration", type=float, default=8, help="seconds per phase")
    parser.add_argument("--rates", default="1000,5000", help="fixed deliveries/s to test")
    parser.add_argument("--window", type=int, default=4, help="unacked sends per sender")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--servers", default="1,2", help="daphne process counts to test")
    parser.add_argument("--no-big", action="store_true", help="skip the groups of 100")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare ceiling")
    parser.add_argument("--name", default="fanout", help="result file name (.json, .png)")
    parser.add_argument(
        "--server-env", action="append", default=[], help="KEY=VALUE for daphne (repeatable)"
    )
    parser.add_argument("--profile", help="py-spy each daphne during each phase into this folder")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


# --- The ceiling: a bare broadcast server ------------------------------------------------


async def bare_server(port: int) -> None:
    """Same frames, no auth, no storage: parse, stamp an id, serialise once, broadcast."""
    import orjson
    from websockets.asyncio.server import broadcast, serve

    groups: dict[str, set] = {}
    counter = iter(range(1, 10**12))

    async def handler(ws):
        group = ws.request.path.rsplit("/", 1)[-1]
        groups.setdefault(group, set()).add(ws)
        await ws.send('{"type":"initial_data"}')
        try:
            async for raw in ws:
                frame = orjson.loads(raw)
                message = {"id": next(counter), "chat_id": group, "content": frame["content"]}
                event = {"type": "new_message", "chat_id": group, "message": message}
                broadcast(groups[group], orjson.dumps(event).decode())
                ack = {"type": "ack", "client_id": frame["client_id"], "message": message}
                await ws.send(orjson.dumps(ack).decode())
        finally:
            groups[group].discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**20):
        await asyncio.Future()


# --- Setup ---------------------------------------------------------------------------------


def groups_create(count: int, members: int) -> list[dict]:
    """`count` groups of `members` fresh users: [{"chat_id", "tokens"}]."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from chats.services import group_create

    run = f"f{int(time.time()) % 10**6}"
    password = make_password("bench-password-123")
    groups = []
    for g in range(count):
        names = [f"{run}g{g}m{i}" for i in range(members)]
        User.objects.bulk_create(
            [User(username=n, email=f"{n}@bench.test", password=password) for n in names]
        )
        users = list(User.objects.filter(username__in=names).order_by("username"))
        chat = group_create(
            creator=users[0], name=f"{run} group {g}", member_ids=[u.pk for u in users[1:]]
        )
        groups.append({"chat_id": str(chat.pk), "tokens": common.access_tokens(users)})
    return groups


def socket_specs(groups, senders: int, urls: list[str], bare: bool) -> list[dict]:
    """One per member. At a fixed rate the senders take turns evenly (`offset`, a fraction
    of the interval between two sends), so the load is a steady stream, not bursts of one
    message per sender at the same instant."""
    specs = []
    for group in groups:
        for i, token in enumerate(group["tokens"]):
            url = urls[len(specs) % len(urls)]
            specs.append(
                {
                    "url": f"{url}{group['chat_id']}" if bare else url,
                    "token": None if bare else token,
                    "chat_id": group["chat_id"],
                    "sender": i < senders,
                }
            )
    sending = [spec for spec in specs if spec["sender"]]
    for index, spec in enumerate(sending):
        spec["offset"] = index / len(sending)
    return specs


# --- One phase -----------------------------------------------------------------------------


def profilers_start(folder: str | None, label: str, pids, duration: float) -> list:
    """py-spy (in .venv) on each server for the phase, sampling the thread that holds the GIL
    (where the CPU goes) without pausing it: collapsed stacks per process."""
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    command = [str(Path(common.PYTHON).parent / "py-spy"), "record", "--rate", "100", "--gil"]
    command += ["--nonblocking", "--format", "raw", "--duration", str(int(duration))]
    return [
        subprocess.Popen(
            [*command, "--pid", str(pid), "-o", f"{folder}/{label}-{i}.txt"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, pid in enumerate(pids)
    ]


def phase_run(
    specs, *, workers: int, duration: float, rate: float, window: int, pids, profile=None
):
    """Run one phase; its deliveries/s, latency percentiles, loss and server CPU."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
    shares = [specs[i::workers] for i in range(workers)]
    processes = [
        ctx.Process(target=loadgen.worker_main, args=(share, ready, go, results))
        for share in shares
    ]
    for process in processes:
        process.start()
    for _ in processes:
        answer = ready.get(timeout=120)
        if isinstance(answer, str):
            for process in processes:
                process.kill()
            raise RuntimeError(answer)
    senders = sum(spec["sender"] for spec in specs)
    members = len(specs) // len({spec["chat_id"] for spec in specs})
    rate_per_sender = rate / members / senders if rate else 0
    cpu_before = [common.proc_cpu_seconds(pid) for pid in pids]
    loadgen_before = sum(common.proc_cpu_seconds(p.pid) for p in processes)
    start = time.monotonic() + 0.5
    for _ in processes:
        go.put(
            {
                "start": start,
                "duration": duration,
                "rate_per_sender": rate_per_sender,
                "window": window,
            }
        )
    loadgen_window = time.monotonic()
    time.sleep(max(0.0, start - time.monotonic()))
    profilers = profilers_start(profile, label_of(rate), pids, duration)
    records = []
    loadgen_cpu = 0.0
    for _ in processes:
        records.append(results.get(timeout=duration + 120))
        if len(records) == 1:
            loadgen_cpu = sum(common.proc_cpu_seconds(p.pid) for p in processes) - loadgen_before
            loadgen_window = time.monotonic() - loadgen_window
    cpu = [
        round((common.proc_cpu_seconds(pid) - before) / (duration + loadgen.DRAIN_SECONDS), 2)
        for pid, before in zip(pids, cpu_before, strict=True)
    ]
    for process in processes:
        process.join(timeout=30)
    for profiler in profilers:
        profiler.wait(timeout=30)
    merged = loadgen.merge(records)
    delivered_in_window = sum(
        count
        for bucket, count in merged["buckets"].items()
        if bucket * loadgen.BUCKET_SECONDS < duration
    )
    timeline = [
        merged["buckets"].get(b, 0) / loadgen.BUCKET_SECONDS
        for b in range(int((duration + loadgen.DRAIN_SECONDS) / loadgen.BUCKET_SECONDS))
    ]
    return {
        "target_deliveries_per_s": rate or "flat out",
        "deliveries_per_s": round(delivered_in_window / duration),
        "messages_acked": sum(len(ids) for ids in merged["acked"].values()),
        "latency": common.percentiles(merged["latencies"]),
        "missing_before_catch_up": merged["missing"],
        "duplicated": merged["duplicated"],
        "errors": merged["errors"],
        "server_cpu_cores": cpu,
        "loadgen_cpu_cores": round(loadgen_cpu / max(loadgen_window, 0.1), 2),
        "timeline_deliveries_per_s": timeline,
        "acked": {chat: sorted(ids) for chat, ids in merged["acked"].items()},
        "latencies": merged["latencies"],
    }


def catch_up_check(phase: dict) -> int:
    """Acknowledged messages missing from PostgreSQL or out of seq order (must be 0): what a
    client that missed an event would get from `changes` is exactly what is stored."""
    from messaging.models import Message

    lost = 0
    for chat_id, ids in phase["acked"].items():
        stored = list(
            Message.objects.filter(chat_id=chat_id).order_by("seq").values_list("id", "seq")
        )
        seqs = [seq for _, seq in stored]
        lost += len(set(ids) - {message_id for message_id, _ in stored})
        lost += int(seqs != list(range(1, len(seqs) + 1)))
    return lost


def summary(label: str, phase: dict) -> str:
    latency = phase["latency"]
    return (
        f"{label:<28} target {phase['target_deliveries_per_s']!s:>8}  "
        f"delivered {phase['deliveries_per_s']:>6}/s  p50 {latency.get('p50_ms')} ms  "
        f"p95 {latency.get('p95_ms')} ms  p99 {latency.get('p99_ms')} ms  "
        f"missing {phase['missing_before_catch_up']} dup {phase['duplicated']} "
        f"errors {phase['errors']} cpu server {phase['server_cpu_cores']} "
        f"loadgen {phase['loadgen_cpu_cores']}"
    )


def label_of(rate: float) -> str:
    return "flat" if rate == 0 else f"rate_{rate}"


def config_run(label, groups, args, *, servers: int, bare: bool, rates, senders) -> dict:
    common.redis_clear()
    if bare:
        port = common.free_port()
        process = subprocess.Popen([common.PYTHON, __file__, "--bare-server", str(port)])
        time.sleep(1.5)
        urls, pids, stop = [f"ws://127.0.0.1:{port}/"], [process.pid], [process]
    else:
        env = dict(item.split("=", 1) for item in args.server_env)
        running = [common.Server(**env) for _ in range(servers)]
        urls, pids, stop = [s.ws_url for s in running], [s.pid for s in running], running
    specs = socket_specs(groups, senders, urls, bare)
    phases = {}
    try:
        for rate in rates:
            name = label_of(rate)
            phase = phase_run(
                specs,
                workers=args.workers,
                duration=args.duration,
                rate=rate,
                window=args.window,
                pids=pids,
                profile=args.profile and f"{args.profile}/{label.replace(' ', '_')}",
            )
            phase["lost_after_catch_up"] = 0 if bare else catch_up_check(phase)
            common.say(summary(f"{label} {name}", phase))
            phases[name] = phase
    finally:
        for item in stop:
            item.stop() if hasattr(item, "port") else (item.terminate(), item.wait())
    return phases


def plot(results: dict, file_name: str) -> Path:
    plt = common.pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for config, phases in results["configs"].items():
        flat = phases.get("flat")
        if flat:
            xs = [i * loadgen.BUCKET_SECONDS for i in range(len(flat["timeline_deliveries_per_s"]))]
            left.plot(xs, flat["timeline_deliveries_per_s"], label=config)
        for name, phase in phases.items():
            if name.startswith("rate_") and phase["latencies"]:
                ordered = sorted(phase["latencies"])
                ys = [i / len(ordered) for i in range(len(ordered))]
                right.plot([v * 1000 for v in ordered], ys, label=f"{config} {name}")
    left.set(title="Flat out: deliveries/s over time", xlabel="s", ylabel="deliveries/s")
    right.set(
        title="Latency CDF at fixed rates",
        xlabel="send→receive ms (log)",
        ylabel="share",
        xscale="log",
    )
    left.legend(fontsize=8)
    right.legend(fontsize=7)
    figure.tight_layout()
    path = common.plot_path(file_name)
    figure.savefig(path, dpi=80)
    return path


def strip(phases: dict) -> dict:
    return {
        name: {k: v for k, v in phase.items() if k not in {"acked", "latencies"}}
        for name, phase in phases.items()
    }


def main():
    args = parse_args()
    if args.bare_server:
        asyncio.run(bare_server(args.bare_server))
        return
    common.raise_file_limit()
    common.database_use(common.SOCKETS_DATABASE)
    common.say(f"preparing {common.DATABASE_NAME}")
    common.database_prepare()
    common.django_setup()
    rates = [0] + [int(r) for r in args.rates.split(",") if r]
    groups = groups_create(args.groups, args.members)
    common.vacuum_analyze()
    results = {"settings": vars(args), "configs": {}}
    for servers in [int(s) for s in args.servers.split(",") if s]:
        label = f"{servers} daphne"
        results["configs"][label] = config_run(
            label, groups, args, servers=servers, bare=False, rates=rates, senders=args.senders
        )
    if not args.no_bare:
        results["configs"]["bare websockets"] = config_run(
            "bare websockets", groups, args, servers=1, bare=True, rates=rates, senders=args.senders
        )
    if not args.no_big:
        big = groups_create(2, 100)
        results["configs"]["groups of 100, 2 daphne"] = config_run(
            "groups of 100 at 10 msg/s",
            big,
            args,
            servers=2,
            bare=False,
            rates=[2 * 10 * 100],
            senders=2,
        )
    best = max(
        (
            p["flat"]["deliveries_per_s"]
            for c, p in results["configs"].items()
            if "flat" in p and "bare" not in c
        ),
        default=0,
    )
    bare = results["configs"].get("bare websockets", {})
    ceiling = bare["flat"]["deliveries_per_s"] if "flat" in bare else None
    results["ratio_to_ceiling"] = round(best / ceiling, 2) if ceiling else None
    common.say(
        f"best service flat out {best}/s; bare ceiling {ceiling}/s; ratio "
        f"{results['ratio_to_ceiling']}"
    )
    plot(results, args.name)
    results["configs"] = {c: strip(p) for c, p in results["configs"].items()}
    common.result_write(args.name, results)


if __name__ == "__main__":
    main()
