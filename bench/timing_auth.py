"""Do login and recovery refusals take as long for an existing account as for an unknown one?

Against one daphne with production settings (DEBUG=0, Argon2) on chat_bench, each refusal
of an existing account is timed against the same request naming an unknown account,
alternating the two so that load drift hits both alike; prints the medians and their
ratio (existing / unknown) and writes bench/results/timing_auth.json. The tests check that
both paths answer alike and run the hasher once (accounts/tests/test_auth_api.py); this
measures what a client can time.

    .venv/bin/python bench/timing_auth.py                 # 10 attempts of each
    .venv/bin/python bench/timing_auth.py --attempts 50
"""

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

PASSWORD = "timing-correct-horse-battery"
PHRASE = "the owl flies at noon"
UNKNOWN = "timing_nobody"
# (what is refused, path, body naming the existing account; the unknown twin swaps the name)
CASES = [
    ("login: wrong password", "/api/v1/auth/login", {"username": "timing_dora"}),
    ("login: deactivated account", "/api/v1/auth/login", {"username": "timing_gone"}),
    ("recover: wrong phrase", "/api/v1/auth/recover", {"username": "timing_dora"}),
    ("recover: no phrase set", "/api/v1/auth/recover", {"username": "timing_plain"}),
]
FILLERS = {
    "/api/v1/auth/login": {"password": "not-the-password-at-all"},
    "/api/v1/auth/recover": {"security_phrase": "not the phrase at all", "new_password": PASSWORD},
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=10, help="requests per case and side")
    return parser.parse_args()


def accounts_prepare() -> None:
    """timing_dora (password and phrase), timing_plain (no phrase), timing_gone (deactivated),
    made through the accounts services with the production hasher."""
    from accounts.models import User
    from accounts.services import user_deactivate, user_register

    accounts = [("timing_dora", PHRASE), ("timing_plain", ""), ("timing_gone", PHRASE)]
    for username, phrase in accounts:
        if User.objects.filter(username=username).exists():
            continue
        user = user_register(
            username=username,
            email=f"{username}@example.com",
            password=PASSWORD,
            security_phrase=phrase,
        )
        if username == "timing_gone":
            user_deactivate(user=user)


def timed_post(url: str, body: dict) -> tuple[float, int, bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    return time.perf_counter() - start, status, content


def measure(base_url: str, path: str, body: dict, attempts: int) -> dict:
    existing = {**FILLERS[path], **body}
    unknown = {**existing, "username": UNKNOWN}
    timings = {"existing": [], "unknown": []}
    answers = set()
    timed_post(base_url + path, existing)  # warm up the code path
    for _ in range(attempts):
        for side, request_body in (("existing", existing), ("unknown", unknown)):
            seconds, status, content = timed_post(base_url + path, request_body)
            timings[side].append(seconds)
            answers.add((status, content))
    medians = {side: statistics.median(values) for side, values in timings.items()}
    return {
        "existing_median_ms": round(medians["existing"] * 1000, 1),
        "unknown_median_ms": round(medians["unknown"] * 1000, 1),
        "ratio": round(medians["existing"] / medians["unknown"], 3),
        "identical_answers": len(answers) == 1,
        "answer_status": sorted(status for status, _ in answers),
    }


def main() -> None:
    args = parse_args()
    common.database_prepare()
    common.django_setup()
    common.redis_clear()
    accounts_prepare()
    server = common.Server()
    try:
        results = {}
        for name, path, body in CASES:
            results[name] = measure(server.http_url, path, body, args.attempts)
            figures = results[name]
            common.say(
                f"{name}: existing {figures['existing_median_ms']} ms, unknown"
                f" {figures['unknown_median_ms']} ms, ratio {figures['ratio']},"
                f" identical answers: {figures['identical_answers']}"
            )
    finally:
        server.stop()
    common.result_write("timing_auth", {"attempts": args.attempts, "cases": results})


if __name__ == "__main__":
    main()
