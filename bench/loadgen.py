"""Socket load generator processes shared by the fan-out benchmark (and its ceiling run).

Each worker process holds a share of the sockets, waits for the parent's go, then has its
senders send `send_message` frames (flat out with a window of unacknowledged frames, or at
a fixed rate) and records, for every `new_message` its sockets receive, the latency from
the send (the time is in the content; CLOCK_MONOTONIC is shared by all processes).
"""

import asyncio
import time
import uuid
from collections import Counter, defaultdict

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

DRAIN_SECONDS = 2.0
BUCKET_SECONDS = 0.5


async def open_socket(spec: dict):
    url = spec["url"] + (f"?token={spec['token']}" if spec.get("token") else "")
    ws = await connect(url, open_timeout=30, max_size=2**22, compression=None)
    await asyncio.wait_for(ws.recv(), 30)  # initial_data
    return ws


async def run_worker(specs: list[dict], ready, go, results) -> None:
    sockets = []
    limit = asyncio.Semaphore(50)

    async def opened(spec):
        async with limit:
            for attempt in range(4):
                try:
                    return await open_socket(spec)
                except InvalidHandshake:  # not accepted within daphne's connect timeout
                    await asyncio.sleep(0.5 * (attempt + 1))
            return await open_socket(spec)

    try:
        sockets = await asyncio.gather(*(opened(spec) for spec in specs))
    except Exception as error:
        ready.put(f"connect failed: {error!r}")
        return
    ready.put(len(sockets))
    phase = await asyncio.get_running_loop().run_in_executor(None, go.get)
    start = phase["start"]
    end = start + phase["duration"]
    record = {"latencies": [], "buckets": Counter(), "received": [], "acked": [], "errors": 0}

    async def receive(ws, spec, windows):
        seen = []
        record["received"].append((spec["chat_id"], seen))
        async for raw in ws:
            event = orjson.loads(raw)
            kind = event["type"]
            now = time.monotonic()
            if kind == "new_message":
                message = event["message"]
                sent = float(message["content"].split()[1])
                if sent >= start:
                    seen.append(message["id"])
                    record["latencies"].append(now - sent)
                    record["buckets"][int((now - start) / BUCKET_SECONDS)] += 1
            elif kind == "ack":
                record["acked"].append((spec["chat_id"], event["message"]["id"]))
                if windows is not None:
                    windows.release()
            elif kind == "error":
                record["errors"] += 1
                if windows is not None:
                    windows.release()

    async def send(ws, spec, windows):
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        interval = 1 / phase["rate_per_sender"] if phase["rate_per_sender"] else 0
        sent = 0
        while True:
            due = start + (sent + spec.get("offset", 0)) * interval
            if due >= end or time.monotonic() >= end:
                return
            if windows is not None:
                await windows.acquire()
            elif due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            frame = {
                "type": "send_message",
                "chat_id": spec["chat_id"],
                "content": f"b {time.monotonic():.6f}",
                "client_id": uuid.uuid4().hex,
            }
            await ws.send(orjson.dumps(frame).decode())
            sent += 1

    tasks = []
    for ws, spec in zip(sockets, specs, strict=True):
        windows = None
        if spec["sender"] and not phase["rate_per_sender"]:
            windows = asyncio.Semaphore(phase["window"])
        tasks.append(asyncio.create_task(receive(ws, spec, windows)))
        if spec["sender"]:
            tasks.append(asyncio.create_task(send(ws, spec, windows)))
    await asyncio.sleep(max(0.0, end + DRAIN_SECONDS - time.monotonic()))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    record["buckets"] = dict(record["buckets"])
    results.put(record)


def worker_main(specs, ready, go, results) -> None:
    asyncio.run(run_worker(specs, ready, go, results))


def merge(records: list[dict]) -> dict:
    merged = {"latencies": [], "buckets": Counter(), "errors": 0}
    received = defaultdict(list)
    acked = defaultdict(set)
    for record in records:
        merged["latencies"] += record["latencies"]
        merged["buckets"].update({int(k): v for k, v in record["buckets"].items()})
        merged["errors"] += record["errors"]
        for chat_id, seen in record["received"]:
            received[chat_id].append(seen)
        for chat_id, message_id in record["acked"]:
            acked[chat_id].add(message_id)
    missing = duplicated = 0
    for chat_id, sockets in received.items():
        for seen in sockets:
            missing += len(acked[chat_id] - set(seen))
            duplicated += len(seen) - len(set(seen))
    merged["missing"] = missing
    merged["duplicated"] = duplicated
    merged["acked"] = acked
    return merged
