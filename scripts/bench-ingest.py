#!/usr/bin/env python3
"""Reports runs to the console one after another and says how long each took.

    scripts/bench-ingest.py --base http://127.0.0.1:5000 --user admin --password '...' \\
        [--seconds 60] [--until-log FILE --until-text 'data retention']

Signs in through the API, makes (or reuses) the push job "ingest bench" and
posts a successful run to `/api/v1/jobs/{id}/runs` in a loop, a run at a
time (the wait one backup tool sees), for `--seconds`, or until the line
`--until-text` appears in the server's log `--until-log` (e.g. the end of a
data retention pass). Prints how many runs were stored, the median, p95,
p99 and maximum in milliseconds, and any answer that was not 201.
Only the standard library is used.
"""

import argparse
import json
import os
import time
import urllib.error
import urllib.request


def call(base: str, method: str, path: str, token: str | None, body: dict | None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.load(response)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def log_has(path: str | None, text: str | None, offset: int) -> bool:
    if not path or not text or not os.path.exists(path):
        return False
    with open(path, "rb") as log:
        log.seek(offset)
        return text.encode() in log.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--until-log")
    parser.add_argument("--until-text")
    args = parser.parse_args()

    _, login = call(args.base, "POST", "/api/v1/auth/login", None, {"username": args.user, "password": args.password})
    token = login["token"]
    _, found = call(args.base, "GET", "/api/v1/jobs?q=ingest%20bench", token, None)
    jobs = [j for j in found["items"] if j["name"] == "ingest bench"]
    job = jobs[0] if jobs else call(args.base, "POST", "/api/v1/jobs", token, {"name": "ingest bench"})[1]
    offset = os.path.getsize(args.until_log) if args.until_log and os.path.exists(args.until_log) else 0

    times, failures = [], []
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and not log_has(args.until_log, args.until_text, offset):
        started = time.perf_counter()
        try:
            status, _ = call(args.base, "POST", f"/api/v1/jobs/{job['id']}/runs", token, {"result": "success"})
        except urllib.error.HTTPError as error:
            status = error.code
        times.append((time.perf_counter() - started) * 1000)
        if status != 201:
            failures.append(status)
    print(
        f"{len(times)} runs reported: p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms, "
        f"p99 {percentile(times, 99):.1f} ms, max {max(times):.1f} ms; answers other than 201: {failures or 'none'}"
    )


if __name__ == "__main__":
    main()
