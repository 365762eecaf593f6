#!/usr/bin/env python3
"""The failed-attempt throttle under a flood (issue 14, point 8), over loopback only.

Starts the release binary on 127.0.0.1 with a fresh database, seeds a project with a `main`
branch and a trigger token, then measures one client on 127.0.0.1 calling the trigger endpoint
with the valid token (one keep-alive connection, one call after another) in three phases:

  unflooded            nobody else calls
  flooded              FLOODERS processes bound to 127.0.0.2 call with unknown tokens as fast as
                       the server answers (after 20 failures they get 429 without a database read)
  flooded, no throttle the same flood with triggers.max_failed_attempts = 0 (a second server):
                       every unknown token is read from the database and counted (one write each)

and prints the valid caller's median and p99 per phase and what the flood got. Bounded: each
phase runs SECONDS (default 10) and the script ends after about 4 x SECONDS plus start-up.

    bench/throttle.py [--seconds 10] [--flooders 2] [--bin target/release/triggerd]

Only the standard library; the flooders are separate processes so they do not share the
measuring process's interpreter lock. The machine's cores are shared by the server, the
flooders and the measuring client, so the flooded figures include that contention.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT_TOKEN = "glpat-bench-throttle-0123456789abcdef"
REPO = pathlib.Path(__file__).resolve().parents[1]


def start_server(binary, workdir, extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIGGERD_")}
    env.update(
        TRIGGERD_SERVER__LISTEN="127.0.0.1:0",
        TRIGGERD_DATABASE__PATH=str(workdir / "triggerd.db"),
        TRIGGERD_BOOTSTRAP__ROOT_TOKEN=ROOT_TOKEN,
        RUST_LOG="warn,triggerd=info,triggerd::access=warn",
        **extra_env,
    )
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen([str(binary)], cwd=workdir, env=env, stdout=log, stderr=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        m = re.search(r"listening on http://([0-9.]+):(\d+)", (workdir / "server.log").read_text(errors="replace"))
        if m:
            return proc, int(m.group(2))
        if proc.poll() is not None:
            sys.exit(f"the server exited: {(workdir / 'server.log').read_text(errors='replace')}")
        time.sleep(0.05)
    proc.kill()
    sys.exit("the server did not report its address")


def api(port, method, path, body=None, token=ROOT_TOKEN):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "PRIVATE-TOKEN": token}
    conn.request(method, "/api/v4" + path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 300:
        sys.exit(f"{method} {path}: {resp.status} {data[:200]!r}")
    return json.loads(data)


def seed(port):
    project = api(port, "POST", "/projects", {"name": "throttle", "initialize_with_readme": True})
    trigger = api(port, "POST", f"/projects/{project['id']}/triggers", {"description": "bench"})
    return project["id"], trigger["token"]


def trigger_body(token):
    return json.dumps({"token": token, "ref": "main", "variables": {"DEPLOY_ENV": "staging"}})


def flood(port, project_id, until, counts):
    """Unknown tokens from 127.0.0.2 on one keep-alive connection until `until`."""
    body = trigger_body("glptt-" + "0" * 40)
    path = f"/api/v4/projects/{project_id}/trigger/pipeline"
    seen = {}
    conn = None
    while time.time() < until:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0))
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            seen[resp.status] = seen.get(resp.status, 0) + 1
        except (OSError, http.client.HTTPException):
            conn = None
    for status, n in seen.items():
        counts.append((status, n))


def measure(port, project_id, token, seconds):
    """Latencies (s) of valid trigger calls from 127.0.0.1, one after another."""
    body = trigger_body(token)
    path = f"/api/v4/projects/{project_id}/trigger/pipeline"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.1", 0))
    latencies = []
    until = time.time() + seconds
    while time.time() < until:
        start = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        latencies.append(time.perf_counter() - start)
        if resp.status != 201:
            sys.exit(f"the valid caller got {resp.status}")
    conn.close()
    return latencies


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def phase(name, port, project_id, token, seconds, flooders):
    manager = multiprocessing.Manager()
    counts = manager.list()
    procs = []
    if flooders:
        until = time.time() + seconds + 2
        procs = [multiprocessing.Process(target=flood, args=(port, project_id, until, counts)) for _ in range(flooders)]
        for p in procs:
            p.start()
        time.sleep(1)  # the flood is under way (and past its first 20 failures) before measuring
    lat = measure(port, project_id, token, seconds)
    for p in procs:
        p.join(timeout=seconds + 30)
    by_status = {}
    for status, n in counts:
        by_status[status] = by_status.get(status, 0) + n
    row = {
        "phase": name,
        "calls": len(lat),
        "median_ms": round(percentile(lat, 0.5) * 1000, 2),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
        "flood": {str(k): v for k, v in sorted(by_status.items())},
    }
    print(json.dumps(row), flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--flooders", type=int, default=2)
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "triggerd"))
    args = ap.parse_args()
    if not (1 <= args.seconds <= 120 and 1 <= args.flooders <= 16):
        sys.exit("--seconds must be 1..120 and --flooders 1..16")
    rows = []
    for throttled in (True, False):
        workdir = pathlib.Path(tempfile.mkdtemp(prefix="triggerd-throttle-"))
        extra = {} if throttled else {"TRIGGERD_TRIGGERS__MAX_FAILED_ATTEMPTS": "0"}
        proc, port = start_server(args.bin, workdir, extra)
        try:
            project_id, token = seed(port)
            measure(port, project_id, token, 1)  # warm-up
            if throttled:
                rows.append(phase("unflooded", port, project_id, token, args.seconds, 0))
                rows.append(phase("flooded", port, project_id, token, args.seconds, args.flooders))
            else:
                rows.append(phase("flooded, no throttle", port, project_id, token, args.seconds, args.flooders))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            shutil.rmtree(workdir, ignore_errors=True)
    base = rows[0]["p99_ms"]
    for r in rows[1:]:
        print(f"{r['phase']}: p99 {r['p99_ms']} ms = {r['p99_ms'] / base:.2f} x unflooded ({base} ms)")


if __name__ == "__main__":
    main()
