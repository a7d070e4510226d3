#!/usr/bin/env python3
"""Helpers of scripts/bench/compare.sh (standard library only).

    bench.py free-port
    bench.py wait-http URL --pid PID [--timeout S]
    bench.py make-jobs --base URL --user U --password P --jobs N --out PATHS_FILE
    bench.py count-runs (--sqlite FILE | --postgres URL) [--table runs]
    bench.py watch-rss PID OUT_FILE
    bench.py pg-url URL DBNAME
    bench.py record --results FILE --round N --key K --wrk WRK_OUTPUT [--connections C]
                    [--before N --after N --after-at-end N --sqlite-or-postgres ...] [--rss-mb X]
    bench.py summarize --results FILE [--json OUT] [--meta JSON]

Each prints what compare.sh needs on stdout and explains failures on
stderr with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def fail(message: str, code: int = 1) -> None:
    print(f"bench.py: {message}", file=sys.stderr)
    sys.exit(code)


# --- processes and ports -------------------------------------------------


def free_port(_args) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # A zombie (state Z) has exited already.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_http(args) -> None:
    """Until URL answers 200; exit 3 if the process died, 4 on time-out."""
    deadline = time.monotonic() + args.timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not alive(args.pid):
            fail(f"the process {args.pid} exited before {args.url} answered ({last})", 3)
        try:
            with urllib.request.urlopen(args.url, timeout=2) as response:
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except urllib.error.HTTPError as e:
            last = f"status {e.code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    fail(f"{args.url} did not answer 200 within {args.timeout:.0f} s ({last})", 4)


def watch_rss(args) -> None:
    """Samples VmRSS of PID every 50 ms until it exits or we are stopped;
    OUT holds the largest value seen (kB), rewritten at every new maximum."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    peak = 0
    while not stop.is_set():
        try:
            with open(f"/proc/{args.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
                        if kb > peak:
                            peak = kb
                            with open(args.out, "w") as out:
                                out.write(f"{peak}\n")
                        break
        except OSError:
            break
        stop.wait(0.05)


# --- the console's API ---------------------------------------------------


class Api:
    """One keep-alive connection to the console."""

    def __init__(self, base: str, token: str | None = None):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: once more.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")


def make_jobs(args) -> None:
    """Signs in, creates N push jobs and writes their ping paths, one a line."""
    started = time.monotonic()
    status, login = Api(args.base).call(
        "POST", "/api/v1/auth/login", {"username": args.user, "password": args.password}
    )
    if status != 200 or not isinstance(login, dict) or "token" not in login:
        fail(f"POST /api/v1/auth/login answered {status}: {login}")
    token = login["token"]
    local = threading.local()

    def create(i: int) -> str:
        if not hasattr(local, "api"):
            local.api = Api(args.base, token)
        name = f"{args.prefix} {i:05d}"
        status, job = local.api.call("POST", "/api/v1/jobs", {"name": name, "tags": ["bench"]})
        if status != 201 or not isinstance(job, dict):
            raise RuntimeError(f"POST /api/v1/jobs ({name!r}) answered {status}: {job}")
        url = job.get("ping_url")
        if not url:
            raise RuntimeError(f"the created job {job.get('id')} has no ping_url: {json.dumps(job)[:400]}")
        path = urllib.parse.urlsplit(url).path
        if not path.startswith("/ping/"):
            raise RuntimeError(f"unexpected ping_url {url!r}")
        return path

    try:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            paths = list(pool.map(create, range(1, args.jobs + 1)))
    except RuntimeError as e:
        fail(str(e))
    if len(set(paths)) != len(paths):
        fail("two jobs share a ping path")
    with open(args.out, "w") as out:
        out.write("\n".join(paths) + "\n")
    print(f"{len(paths)} jobs in {time.monotonic() - started:.1f} s")


# --- counting stored runs ------------------------------------------------


def count_once(args) -> int:
    query = f"select count(*) from {args.table}"
    if args.sqlite:
        db = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True, timeout=30)
        try:
            return int(db.execute(query).fetchone()[0])
        finally:
            db.close()
    out = subprocess.run(
        ["psql", args.postgres, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", query],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return int(out.stdout.strip())


def count_runs(args) -> None:
    """Prints the count now, then (with --settle) waits until it holds still
    for half a second (reports still in flight when wrk stopped) and prints
    that: `NOW SETTLED`."""
    try:
        now = count_once(args)
        if not args.settle:
            print(now)
            return
        last, steady_since = now, time.monotonic()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and time.monotonic() - steady_since < 0.5:
            time.sleep(0.1)
            n = count_once(args)
            if n != last:
                last, steady_since = n, time.monotonic()
        print(now, last)
    except (sqlite3.Error, RuntimeError, subprocess.TimeoutExpired) as e:
        fail(f"cannot count the stored runs: {e}")


def pg_url(args) -> None:
    parts = urllib.parse.urlsplit(args.url)
    print(urllib.parse.urlunsplit(parts._replace(path=f"/{args.dbname}")))


# --- results -------------------------------------------------------------

LABELS = {
    "hello": "reference GET /hello (c32)",
    "insert": "reference POST /insert (c32)",
    "sqlite-c32": "console SQLite pings (c32)",
    "sqlite-c1": "console SQLite pings (c1)",
    "postgres-c32": "console PostgreSQL pings (c32)",
    "postgres-c1": "console PostgreSQL pings (c1)",
}


def parse_wrk(path: str) -> dict:
    with open(path) as f:
        for line in f:
            if line.startswith("BENCH_JSON "):
                return json.loads(line[len("BENCH_JSON "):])
    fail(f"no BENCH_JSON line in wrk's output {path} (did the Lua script load?)")
    raise AssertionError


def record(args) -> None:
    """Appends one measurement to the results file and prints it. With
    --before/--after checks the stored runs against wrk's 2xx answers and
    exits 2 (after printing why) when they disagree."""
    w = parse_wrk(args.wrk)
    ok = w["requests"] - w["non2xx"]
    row = {
        "round": args.round,
        "key": args.key,
        "label": LABELS.get(args.key, args.key),
        "connections": args.connections,
        "rps": w["rps"],
        "ok_rps": ok / w["duration_s"] if w["duration_s"] else None,
        "p50_ms": w["latency_ms"]["p50"],
        "p99_ms": w["latency_ms"]["p99"],
        "max_ms": w["latency_ms"]["max"],
        "requests": w["requests"],
        "ok": ok,
        "non2xx": w["non2xx"],
        "sent": w["sent"],
        "errors": w["errors"],
        "duration_s": w["duration_s"],
    }
    if args.rss_kb is not None:
        row["rss_peak_mb"] = round(args.rss_kb / 1024, 1)
        row["rss_how"] = args.rss_how
    problem = None
    if args.before is not None and args.after is not None:
        stored = args.after - args.before
        at_end = args.after_at_end - args.before if args.after_at_end is not None else None
        # Requests written but unanswered when wrk stopped may or may not
        # have been stored; at most one per connection (more only if a
        # connection broke and wrk wrote its request again).
        unanswered = w["sent"] - w["requests"] if w["sent"] is not None else args.connections
        row.update({"stored": stored, "stored_when_wrk_ended": at_end, "unanswered": unanswered})
        if stored < ok:
            problem = (
                f"{ok - stored} reports were answered 2xx but are not stored: wrk counted {ok} "
                f"2xx answers ({w['requests']} responses, {w['non2xx']} with a status >= 400), "
                f"the database holds {stored} new runs"
            )
        elif stored > ok + unanswered:
            problem = (
                f"the database holds {stored} new runs, more than the {ok} 2xx answers plus the "
                f"{unanswered} requests still unanswered when wrk stopped: reports answered with an "
                f"error (or not at all) were stored, or stored twice"
            )
        row["check"] = "FAILED" if problem else "ok"
        if at_end is not None and at_end < ok and not problem:
            # Every 2xx answer should follow its commit: the count taken
            # right after wrk ended should already hold all of them.
            row["committed_after_answer"] = ok - at_end
    with open(args.results, "a") as f:
        f.write(json.dumps(row) + "\n")
    errors = {k: v for k, v in w["errors"].items() if v}
    line = (
        f"  {row['label']:<34} {w['rps']:>10.1f} req/s  p50 {w['latency_ms']['p50']:.2f} ms  "
        f"p99 {w['latency_ms']['p99']:.2f} ms  ({w['requests']} answers"
        + (f", errors {errors}" if errors else "")
        + ")"
    )
    if "stored" in row:
        line += f"\n  {'':<34} stored {row['stored']} runs for {ok} 2xx answers (+{row['unanswered']} unanswered at the end): {row['check']}"
    if "rss_peak_mb" in row:
        line += f"\n  {'':<34} peak RSS {row['rss_peak_mb']} MB ({row['rss_how']})"
    print(line, flush=True)
    if row.get("committed_after_answer"):
        print(
            f"  WARNING: {row['committed_after_answer']} runs answered 2xx were not yet in the database "
            "when wrk ended (stored later): answers sent before their commit?",
            flush=True,
        )
    if w["non2xx"]:
        print(f"  WARNING: {w['non2xx']} answers had a status >= 400 (see the server log)", flush=True)
    if problem:
        print(f"\nFAILED CHECK ({row['label']}, round {args.round}): {problem}", file=sys.stderr)
        sys.exit(2)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def summarize(args) -> None:
    rows = []
    with open(args.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        fail("no results to summarise")
    meta = json.loads(args.meta) if args.meta else {}
    rounds = sorted({r["round"] for r in rows})
    keys = [k for k in LABELS if any(r["key"] == k for r in rows)]
    measurements = {}
    for key in keys:
        mine = [r for r in rows if r["key"] == key]
        by_round = {r["round"]: r for r in mine}
        measurements[key] = {
            "label": LABELS[key],
            "connections": mine[0]["connections"],
            "rps": [by_round[n]["rps"] if n in by_round else None for n in rounds],
            "median_rps": median([r["rps"] for r in mine]),
            "median_p50_ms": median([r["p50_ms"] for r in mine]),
            "median_p99_ms": median([r["p99_ms"] for r in mine]),
            "p50_ms": [by_round[n]["p50_ms"] if n in by_round else None for n in rounds],
            "p99_ms": [by_round[n]["p99_ms"] if n in by_round else None for n in rounds],
            "non2xx": sum(r["non2xx"] for r in mine),
            "socket_errors": sum(
                r["errors"]["connect"] + r["errors"]["read"] + r["errors"]["write"] + r["errors"]["timeout"]
                for r in mine
            ),
            "stored_check": sorted({r["check"] for r in mine if "check" in r}) or None,
            "rss_peak_mb": [by_round[n].get("rss_peak_mb") if n in by_round else None for n in rounds]
            if any("rss_peak_mb" in r for r in mine)
            else None,
            "median_rss_peak_mb": median([r.get("rss_peak_mb") for r in mine]),
            "rounds": mine,
        }

    def med(key):
        return measurements[key]["median_rps"] if key in measurements else None

    ratios = {}
    for backend in ("sqlite", "postgres"):
        c32, c1 = med(f"{backend}-c32"), med(f"{backend}-c1")
        if c32 is None:
            continue
        ratios[f"{backend}_c32_over_hello"] = ratio(c32, med("hello"))
        ratios[f"{backend}_c32_over_insert"] = ratio(c32, med("insert"))
        ratios[f"{backend}_c32_over_c1"] = ratio(c32, c1)

    # --- the table ---
    width = 34
    cols = "".join(f"{'round ' + str(n):>11}" for n in rounds)
    out = []
    out.append("")
    out.append(
        f"{'measurement':<{width}}{cols}{'median':>11}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>9}"
    )
    out.append(f"{'':<{width}}{'(requests per second)':>{11 * (len(rounds) + 1)}}{'(medians)':>27}")
    for key, m in measurements.items():
        vals = "".join(f"{v:>11.0f}" if v is not None else f"{'-':>11}" for v in m["rps"])
        rss = m["median_rss_peak_mb"]
        out.append(
            f"{m['label']:<{width}}{vals}{m['median_rps']:>11.0f}{m['median_p50_ms']:>9.2f}"
            f"{m['median_p99_ms']:>9.2f}{(f'{rss:.0f}' if rss is not None else ''):>9}"
        )
    out.append("")
    names = {
        "sqlite_c32_over_hello": "console SQLite c32 / reference hello",
        "sqlite_c32_over_insert": "console SQLite c32 / reference insert",
        "sqlite_c32_over_c1": "console SQLite c32 / c1 (goal >= 1)",
        "postgres_c32_over_hello": "console PostgreSQL c32 / reference hello",
        "postgres_c32_over_insert": "console PostgreSQL c32 / reference insert",
        "postgres_c32_over_c1": "console PostgreSQL c32 / c1 (goal >= 1)",
    }
    out.append("ratios of the medians:")
    for k, v in ratios.items():
        out.append(f"  {names[k]:<44}{(f'{v:.3f}' if v is not None else '-'):>8}")
    for backend in ("sqlite", "postgres"):
        m = measurements.get(f"{backend}-c32")
        if m and m["rss_peak_mb"]:
            vals = ", ".join(f"{v:.0f}" if v is not None else "-" for v in m["rss_peak_mb"])
            out.append(
                f"peak RSS of the console during the 32-client load ({backend}): {vals} MB "
                f"(median {m['median_rss_peak_mb']:.0f} MB)"
            )
    goals = {}
    if "sqlite-c32" in measurements:
        r = ratios.get("sqlite_c32_over_c1")
        goals["sqlite_c32_at_least_c1"] = None if r is None else r >= 1
    if "postgres-c32" in measurements:
        rate = med("postgres-c32")
        goals["postgres_at_least_5000_per_s"] = rate >= 5000
        out.append(
            f"PostgreSQL goal >= 5,000 reports/s: median {rate:.0f}/s: "
            + ("met" if rate >= 5000 else "NOT met")
        )
        r = ratios.get("postgres_c32_over_c1")
        goals["postgres_c32_at_least_c1"] = None if r is None else r >= 1
    if "sqlite_c32_at_least_c1" in goals and goals["sqlite_c32_at_least_c1"] is not None:
        out.append(
            "SQLite: throughput at 32 clients >= at 1 client: "
            + ("yes" if goals["sqlite_c32_at_least_c1"] else "NO")
        )
    bad = sum(m["non2xx"] + m["socket_errors"] for m in measurements.values())
    if bad:
        out.append(
            "WARNING: answers with a status >= 400 or socket errors: "
            + ", ".join(
                f"{m['label']}: {m['non2xx']} status, {m['socket_errors']} socket"
                for m in measurements.values()
                if m["non2xx"] or m["socket_errors"]
            )
        )
    print("\n".join(out))

    if args.json:
        document = {
            "meta": {
                **meta,
                "rounds": len(rounds),
                "host": platform.node(),
                "kernel": platform.release(),
                "cpus": os.cpu_count(),
                "cpu_model": cpu_model(),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
            "measurements": measurements,
            "ratios": ratios,
            "goals": goals,
        }
        with open(args.json, "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
        print(f"\nJSON written to {args.json}")


def cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("free-port").set_defaults(run=free_port)

    p = sub.add_parser("wait-http")
    p.add_argument("url")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(run=wait_http)

    p = sub.add_parser("make-jobs")
    p.add_argument("--base", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--jobs", type=int, default=1000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--prefix", default="bench job")
    p.add_argument("--out", required=True)
    p.set_defaults(run=make_jobs)

    p = sub.add_parser("count-runs")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--sqlite")
    g.add_argument("--postgres")
    p.add_argument("--table", default="runs")
    p.add_argument("--settle", action="store_true")
    p.set_defaults(run=count_runs)

    p = sub.add_parser("watch-rss")
    p.add_argument("pid", type=int)
    p.add_argument("out")
    p.set_defaults(run=watch_rss)

    p = sub.add_parser("pg-url")
    p.add_argument("url")
    p.add_argument("dbname")
    p.set_defaults(run=pg_url)

    p = sub.add_parser("record")
    p.add_argument("--results", required=True)
    p.add_argument("--round", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--wrk", required=True)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--before", type=int)
    p.add_argument("--after", type=int)
    p.add_argument("--after-at-end", type=int)
    p.add_argument("--rss-kb", type=int)
    p.add_argument("--rss-how", default="")
    p.set_defaults(run=record)

    p = sub.add_parser("summarize")
    p.add_argument("--results", required=True)
    p.add_argument("--json")
    p.add_argument("--meta")
    p.set_defaults(run=summarize)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
