#!/usr/bin/env python3
"""Measures a full first sync and an incremental sync of a Veeam server.

Start a simulator and a console first, for example:

    backup-mgmt veeam-sim --listen 127.0.0.1:9419 --jobs 1000 --history-days 100 --speed 0 &
    BMS_DATA_DIR=/tmp/bench BMS_ADMIN_PASSWORD='bench admin passphrase' backup-mgmt serve &
    scripts/bench-veeam-sync.py --user admin --password 'bench admin passphrase' \
        --veeam https://127.0.0.1:9419/

The server is added with the simulator's self-signed certificate accepted
and automatic syncs off; each sync is started with POST .../sync and timed
until the server reports it finished. Progress is printed as it comes.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def call(base, method, path, token=None, body=None):
    request = urllib.request.Request(base.rstrip("/") + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data, timeout=60) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def timed_sync(base, token, server_id):
    status, server = call(base, "GET", f"/api/v1/veeam/servers/{server_id}", token)
    before = server["last_sync_at"]
    started = time.monotonic()
    status, body = call(base, "POST", f"/api/v1/veeam/servers/{server_id}/sync", token)
    if status != 202:
        sys.exit(f"sync refused: {status} {body}")
    last = None
    while True:
        status, server = call(base, "GET", f"/api/v1/veeam/servers/{server_id}", token)
        progress = server["sync_progress"]
        if progress and progress != last:
            print(f"  {time.monotonic() - started:6.1f} s  {progress['phase']:<12} {progress['done']} / {progress['total']}")
            last = progress
        if progress is None and server["last_sync_at"] != before:
            return time.monotonic() - started, server
        if progress is None and server["last_error"] and server["status"] != "ok":
            sys.exit(f"sync failed: {server['last_error']}")
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--veeam", default="https://127.0.0.1:9419/")
    args = parser.parse_args()

    status, body = call(args.base, "POST", "/api/v1/auth/login", body={"username": args.user, "password": args.password})
    if status != 200:
        sys.exit(f"sign-in failed: {status} {body}")
    token = body["token"]
    name = f"bench {int(time.time())}"
    status, server = call(args.base, "POST", "/api/v1/veeam/servers", token, {
        "name": name, "base_url": args.veeam, "username": "administrator", "password": "simulator",
        "tls_mode": "insecure", "enabled": False,
    })
    if status != 201:
        sys.exit(f"adding the server failed: {status} {server}")
    print(f"full first sync of {args.veeam}:")
    full, server = timed_sync(args.base, token, server["id"])
    print(f"full sync: {full:.1f} s ({server['jobs']} jobs)")
    print("incremental sync:")
    incremental, _ = timed_sync(args.base, token, server["id"])
    print(f"incremental sync: {incremental:.1f} s")
    status, runs = call(args.base, "GET", "/api/v1/runs?limit=1", token)
    print(json.dumps({"full_seconds": round(full, 1), "incremental_seconds": round(incremental, 1)}))


if __name__ == "__main__":
    main()
