"""Coverage floors beyond the overall 90 %: the code that decides who may do what, that
validates input, that runs the socket and that checks uploads is covered in full.

Reads the JSON report of `pytest --cov --cov-report=json:<path>` (see .ci/run); exits 1 and
names every module that falls short, or that the report lacks (renamed or moved).
"""

import json
import sys

FULLY_COVERED = {
    "permissions": [
        "accounts/authentication.py",
        "accounts/socket_auth.py",
        "chatproject/origins.py",
        "chats/selectors.py",
        "chats/services/common.py",
    ],
    "serializers": [
        "accounts/serializers.py",
        "chats/serializers.py",
        "messaging/serializers.py",
    ],
    "socket consumer": [
        "messaging/consumers.py",
        "messaging/socket_actions.py",
        "messaging/socket_rate.py",
    ],
    "upload validation": [
        "chatproject/files.py",
        "messaging/uploads.py",
    ],
}


def shortfalls(report: dict) -> list[str]:
    files = report["files"]
    problems = []
    for group, paths in FULLY_COVERED.items():
        for path in paths:
            if path not in files:
                problems.append(f"{group}: {path} is not in the report")
                continue
            summary = files[path]["summary"]
            if summary["percent_covered"] < 100:
                missing = ", ".join(str(line) for line in files[path]["missing_lines"])
                problems.append(f"{group}: {path} {summary['percent_covered']:.1f} % ({missing})")
    return problems


def main(path: str) -> int:
    with open(path) as handle:
        report = json.load(handle)
    problems = shortfalls(report)
    total = report["totals"]["percent_covered"]
    print(f"coverage: {total:.1f} % overall; {len(problems)} fully-covered module(s) short")
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "coverage.json"))
