#!/usr/bin/env python3
"""Load tool of bench/runners.sh: many runners long-polling POST /api/v4/jobs/request at once.

Python standard library only (asyncio streams and a minimal HTTP/1.1 client): nothing to install
or pin, and one event loop holds hundreds of idle connections cheaply. Not for throughput: it
times single events (a trigger call's 201, a runner's 201) with time.monotonic() in one process.

Phases, each bounded in time:
  1. baseline: server CPU with no runner connected (--baseline-secs);
  2. register --runners instance runners (POST /user/runners with the PAT, run_untagged);
  3. idle: all runners in POST /jobs/request at once; server CPU per second, RSS, open files,
     over --idle-secs (the window is meant to span one long-poll expiry, so it includes the 204s
     and the re-polls of every runner);
  4. triggers: --triggers sequential trigger calls on a 1-job project; for each, the time from
     the trigger call's 201 to the 201 a runner gets for that pipeline's job; that runner then
     PUTs state=success and polls again; the next call waits for that PUT and --gap-ms.
Prints one JSON object with every figure on stdout.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from urllib.parse import urlsplit

CLK_TCK = os.sysconf("SC_CLK_TCK")


class HttpError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection (reconnects when the server closes it)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method, path, body=None, headers=None):
        """Sends one request; returns (status, headers dict, body bytes, time the head arrived)."""
        if self.writer is None:
            await self._connect()
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(data)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        for k, v in (headers or {}).items():
            head.append(f"{k}: {v}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await self.writer.drain()
        status_line = await self.reader.readline()
        at = time.monotonic()
        if not status_line:
            self.close()
            raise HttpError(f"connection closed before a response to {method} {path}")
        status = int(status_line.split()[1])
        hdrs = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if status in (204, 304) or 100 <= status < 200:
            payload = b""
        elif "content-length" in hdrs:
            payload = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                payload += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            payload = await self.reader.read()
            self.close()
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return status, hdrs, payload, at

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def cpu_ticks(pid):
    """utime + stime of the process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_ticks(pid):
    """utime + stime per thread name (threads of the same name summed), in clock ticks."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        name, fields = head.split("(", 1)[1], rest.split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def open_files(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def nofile_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                parts = line.split()
                return parts[3], parts[4]
    return None


def percentile(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


async def sample_cpu(pid, seconds):
    """CPU of the server over `seconds`, sampled once a second: (total %, per-second list)."""
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    per_second, last_t, last_c = [], t0, c0
    end = t0 + seconds
    while True:
        await asyncio.sleep(max(0.0, min(1.0, end - time.monotonic())))
        now, c = time.monotonic(), cpu_ticks(pid)
        per_second.append(
            {"t": round(now - t0, 2), "cpu_pct": round(100.0 * (c - last_c) / CLK_TCK / (now - last_t), 2)}
        )
        last_t, last_c = now, c
        if now >= end:
            break
    return 100.0 * (last_c - c0) / CLK_TCK / (last_t - t0), per_second


class Bench:
    def __init__(self, args):
        self.args = args
        u = urlsplit(args.base)
        self.host, self.port = u.hostname, u.port or 80
        self.polls = 0  # requests sent to /jobs/request
        self.in_poll = 0  # runners whose request is outstanding
        self.no_job = []  # monotonic times of the 204s
        self.errors = []
        self.waiters = {}  # pipeline id -> Future resolved with (time of the runner's 201, job id)
        self.done = {}  # pipeline id -> Future resolved when the runner's PUT returned
        self.early = {}  # pipeline id -> (time, job id) of a runner's 201 seen before the trigger's
        self.stop = False

    def conn(self):
        return Conn(self.host, self.port)

    async def register(self, n):
        tokens, conn = [], self.conn()
        for i in range(n):
            status, _, body, _ = await conn.request(
                "POST",
                "/api/v4/user/runners",
                {"runner_type": "instance_type", "run_untagged": True, "description": f"bench runner {i}"},
                {"PRIVATE-TOKEN": self.args.pat},
            )
            if status != 201:
                raise HttpError(f"POST /user/runners: {status} {body[:200]!r}")
            tokens.append(json.loads(body)["token"])
        conn.close()
        return tokens

    async def runner(self, token):
        conn = self.conn()
        while not self.stop:
            self.polls += 1
            self.in_poll += 1
            try:
                status, _, body, at = await conn.request("POST", "/api/v4/jobs/request", {"token": token})
            except (OSError, HttpError, asyncio.IncompleteReadError) as e:
                self.errors.append(f"jobs/request: {e!r}")
                conn.close()
                await asyncio.sleep(1)
                continue
            finally:
                self.in_poll -= 1
            if status == 204:
                self.no_job.append(at)
                continue
            if status != 201:
                self.errors.append(f"jobs/request: {status} {body[:200]!r}")
                await asyncio.sleep(1)
                continue
            job = json.loads(body)
            pipeline = job["job_info"]["pipeline_id"]
            fut = self.waiters.get(pipeline)
            if fut is not None and not fut.done():
                fut.set_result((at, job["id"]))
            else:
                self.early[pipeline] = (at, job["id"])
            status, _, body, _ = await conn.request(
                "PUT", f"/api/v4/jobs/{job['id']}", {"token": job["token"], "state": "success"}
            )
            if status != 200:
                self.errors.append(f"PUT /jobs/{job['id']}: {status} {body[:200]!r}")
            fin = self.done.setdefault(pipeline, asyncio.get_running_loop().create_future())
            if not fin.done():
                fin.set_result(None)
        conn.close()

    async def wait_all_polling(self, n, limit):
        end = time.monotonic() + limit
        while self.in_poll < n and time.monotonic() < end:
            await asyncio.sleep(0.05)
        return self.in_poll

    async def triggers(self, n):
        loop = asyncio.get_running_loop()
        conn, rows = self.conn(), []
        path = f"/api/v4/projects/{self.args.project}/trigger/pipeline"
        for _ in range(n):
            sent = time.monotonic()
            try:
                status, _, body, at = await asyncio.wait_for(
                    conn.request("POST", path, {"token": self.args.trigger_token, "ref": "main"}),
                    self.args.job_timeout,
                )
            except (OSError, HttpError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                # E.g. the server cannot accept another connection (open-files limit reached).
                self.errors.append(f"trigger call: {e!r}")
                rows.append({"unreachable": True, "lost": True, "error": repr(e)})
                conn.close()
                continue
            if status != 201:
                raise HttpError(f"trigger call: {status} {body[:200]!r}")
            pipeline = json.loads(body)["id"]
            if pipeline in self.early:
                got, job = self.early.pop(pipeline)
            else:
                fut = self.waiters[pipeline] = loop.create_future()
                try:
                    got, job = await asyncio.wait_for(fut, self.args.job_timeout)
                except asyncio.TimeoutError:
                    rows.append({"pipeline": pipeline, "trigger_ms": (at - sent) * 1e3, "lost": True})
                    continue
            fin = self.done.setdefault(pipeline, loop.create_future())
            await asyncio.wait_for(fin, self.args.job_timeout)
            rows.append(
                {
                    "pipeline": pipeline,
                    "job": job,
                    "trigger_ms": (at - sent) * 1e3,
                    "from_201_ms": (got - at) * 1e3,
                    "from_send_ms": (got - sent) * 1e3,
                }
            )
            await asyncio.sleep(self.args.gap_ms / 1e3)
        conn.close()
        return rows

    async def run(self):
        a, out = self.args, {}
        pid = a.pid
        out["nofile_limit_soft_hard"] = nofile_limit(pid)
        out["open_files_before"] = open_files(pid)
        out["rss_kib_before"] = status_kib(pid, "VmRSS")
        if a.baseline_secs > 0:
            pct, _ = await sample_cpu(pid, a.baseline_secs)
            out["baseline"] = {"secs": a.baseline_secs, "cpu_pct": round(pct, 3)}
        t = time.monotonic()
        tokens = await self.register(a.runners)
        out["register_secs"] = round(time.monotonic() - t, 2)
        tasks = [asyncio.create_task(self.runner(tok)) for tok in tokens]
        t_start = time.monotonic()
        polling = await self.wait_all_polling(a.runners, 30)
        out["polling_after_start"] = {"runners": polling, "secs": round(time.monotonic() - t_start, 2)}
        await asyncio.sleep(a.settle_secs)
        out["open_files_polling"] = open_files(pid)
        out["rss_kib_polling"] = status_kib(pid, "VmRSS")
        idle_start = time.monotonic()
        polls_before = self.polls
        pct, per_second = await sample_cpu(pid, a.idle_secs)
        # The part of the window before the first long poll expired: holding connections only.
        first_204 = min((x for x in self.no_job if x >= idle_start), default=None)
        held = [s for s in per_second if first_204 is None or idle_start + s["t"] <= first_204]
        out["idle"] = {
            "secs": a.idle_secs,
            "cpu_pct": round(pct, 3),
            "polls_in_window": self.polls - polls_before,
            "no_job_204s_in_window": sum(1 for x in self.no_job if x >= idle_start),
            "secs_before_first_204": None if first_204 is None else round(first_204 - idle_start, 1),
            "cpu_pct_before_first_204": round(statistics.mean(s["cpu_pct"] for s in held), 3) if held else None,
            "cpu_pct_max_second": max(s["cpu_pct"] for s in per_second),
            "per_second": per_second,
        }
        out["rss_kib_after_idle"] = status_kib(pid, "VmRSS")
        out["open_files_after_idle"] = open_files(pid)
        t = time.monotonic()
        c0, th0 = cpu_ticks(pid), thread_ticks(pid)
        rows = await self.triggers(a.triggers)
        th1 = thread_ticks(pid)
        secs = time.monotonic() - t
        ticks = cpu_ticks(pid) - c0
        out["trigger_phase"] = {
            "secs": round(secs, 2),
            "server_cpu_pct": round(100.0 * ticks / CLK_TCK / secs, 2),
            "server_cpu_ms_per_call": round(1e3 * ticks / CLK_TCK / max(1, len(rows)), 3),
            "thread_cpu_ms_per_call": {
                k: round(1e3 * (v - th0.get(k, 0)) / CLK_TCK / max(1, len(rows)), 3)
                for k, v in sorted(th1.items())
                if v - th0.get(k, 0) > 0
            },
        }
        ok = [r for r in rows if not r.get("lost")]
        summary = {
            "calls": len(rows),
            "lost": len(rows) - len(ok),
            "unreachable": sum(1 for r in rows if r.get("unreachable")),
            "gap_ms": a.gap_ms,
        }
        for key in ("from_201_ms", "from_send_ms", "trigger_ms"):
            v = [r[key] for r in ok]
            if v:
                summary[key] = {
                    "p50": round(percentile(v, 50), 3),
                    "p99": round(percentile(v, 99), 3),
                    "max": round(max(v), 3),
                    "min": round(min(v), 3),
                }
        summary["runner_201_before_trigger_201"] = sum(1 for r in ok if r["from_201_ms"] < 0)
        out["latency"] = summary
        out["rows"] = rows
        out["rss_kib_end"] = status_kib(pid, "VmRSS")
        out["vmhwm_kib_end"] = status_kib(pid, "VmHWM")
        out["threads_end"] = status_kib(pid, "Threads")
        self.stop = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out["errors"] = self.errors[:20]
        out["error_count"] = len(self.errors)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out["tool_cpu_secs"] = round(ru.ru_utime + ru.ru_stime, 2)
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--pid", type=int, required=True, help="the server's process id")
    p.add_argument("--pat", required=True, help="an admin personal access token")
    p.add_argument("--project", type=int, required=True, help="project id of the 1-job project")
    p.add_argument("--trigger-token", required=True)
    p.add_argument("--runners", type=int, default=500)
    p.add_argument("--baseline-secs", type=float, default=30)
    p.add_argument("--settle-secs", type=float, default=3)
    p.add_argument("--idle-secs", type=float, default=60)
    p.add_argument("--triggers", type=int, default=200)
    p.add_argument("--gap-ms", type=float, default=100, help="pause after each job's PUT")
    p.add_argument("--job-timeout", type=float, default=10, help="longest wait for a runner's 201")
    p.add_argument("--max-secs", type=float, default=900, help="bound on the whole run")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.runners + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.runners + 1024), hard))
    out = asyncio.run(asyncio.wait_for(Bench(args).run(), args.max_secs))
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
