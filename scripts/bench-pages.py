#!/usr/bin/env python3
"""Measures how long the console takes to answer its busiest pages.

    scripts/bench-pages.py --base http://127.0.0.1:5000 --user admin --password '...' [--requests 50]

Signs in through the API, warms each URL up once, then requests it
`--requests` times one after another (the time a user waits, not
throughput) and prints the median (p50), p95 and maximum in milliseconds.
Full responses are read, as a browser would: server-rendered HTML and JSON.
Only the standard library is used.
"""

import argparse
import json
import statistics
import time
import urllib.request

DEFAULT_PATHS = [
    "/",  # the dashboard, server-rendered
    "/jobs",  # the job list, first page
    "/jobs?job_state=failed",
    "/history",
    "/api/v1/jobs?limit=50",
    "/api/v1/runs?limit=50",
]


def sign_in(base: str, user: str, password: str) -> str:
    body = json.dumps({"username": user, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["token"]


def fetch(base: str, path: str, token: str) -> tuple[float, int, int]:
    request = urllib.request.Request(
        f"{base}{path}", headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        size = len(response.read())
        status = response.status
    return (time.perf_counter() - started) * 1000, status, size


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()

    token = sign_in(args.base, args.user, args.password)
    print(f"{'path':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
    for path in args.paths:
        fetch(args.base, path, token)  # warm-up
        samples = []
        size = 0
        for _ in range(args.requests):
            elapsed, status, size = fetch(args.base, path, token)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            samples.append(elapsed)
        print(
            f"{path:32} {statistics.median(samples):8.1f} {percentile(samples, 95):8.1f} "
            f"{max(samples):8.1f} {size:9d}"
        )


if __name__ == "__main__":
    main()
