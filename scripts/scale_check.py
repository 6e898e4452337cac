#!/usr/bin/env python3
"""The load, drain and report half of scripts/scale-check.sh (run that; it sets up nginx).

Starts two clinfer-server replicas, waits for both /health 200, drives streamed chat completions
through the load balancer with N clients for --duration seconds, sends SIGTERM to replica 1 at
--kill-at seconds, probes replica 1's /health every 0.1 s until it exits, and reports: requests
(total, failed: anything but 200 + a stream ending with [DONE] and no error event), which replica
answered each (nginx's X-Upstream header) before and after the SIGTERM, the replicas' own counts
(/metrics, and replica 1's access log once it has exited), how long replica 1 took to exit, what its
/health answered meanwhile, and what nginx retried. Ends with "N passed, M failed" (requests);
exits 1 if a request failed or a drain check did. Standard library only.
"""
import argparse
import asyncio
import importlib.util
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("server_load", ROOT / "Benchmarks" / "server-load.py")
server_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(server_load)
http_request, sse_events, percentile = server_load.http_request, server_load.sse_events, server_load.percentile
PROMPTS = server_load.PROMPTS

REQUEST_TIMEOUT = 120.0


def split(address):
    host, _, port = address.rpartition(":")
    return host, int(port)


def get(address, path, timeout=5):
    with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as response:
        return response.status, response.read().decode()


def metric_sum(text, name):
    """Sum of a Prometheus series over its label sets (None if absent)."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            try:
                total += float(line.rsplit(None, 1)[1])
                found = True
            except (ValueError, IndexError):
                pass
    return total if found else None


def snapshot(address):
    """The replica's generation counts from /metrics, or None if it does not answer."""
    try:
        text = get(address, "/metrics", timeout=3)[1]
    except OSError:
        return None
    return {"completed": metric_sum(text, "clinfer_request_duration_seconds_count"),
            "running": metric_sum(text, "clinfer_requests_running"),
            "waiting": metric_sum(text, "clinfer_requests_waiting"),
            "cancelled": metric_sum(text, "clinfer_requests_cancelled_total")}


class Record:
    __slots__ = ("start", "end", "status", "upstream", "ok", "error", "tokens")

    def __init__(self, start):
        self.start, self.end, self.status, self.upstream = start, None, None, ""
        self.ok, self.error, self.tokens = False, None, 0

    @property
    def replica(self):
        """The replica that answered last (nginx lists every one it tried)."""
        return self.upstream.split(",")[-1].strip() if self.upstream else "?"


async def streamed_chat(args, record):
    body = {"model": args.model, "messages": [{"role": "user", "content": random.choice(PROMPTS)}],
            "max_tokens": args.max_tokens, "stream": True, "stream_options": {"include_usage": True},
            "temperature": 0.7, "seed": random.randrange(1 << 31), "ignore_eos": True}
    host, port = split(args.lb)
    writer = None
    try:
        reader, writer, status, headers = await http_request(host, port, "POST", "/v1/chat/completions", json.dumps(body).encode())
        record.status, record.upstream = status, headers.get("x-upstream", "")
        if status != 200:
            text = (await reader.read(400)).decode(errors="replace").replace("\r\n", " ")
            record.error = f"status {status}: {text[:160]}"
            return
        done = False
        async for event in sse_events(reader, headers):
            if event is None:
                done = True
                break
            if "error" in event:
                record.error = f"stream error event: {event['error'].get('code')}: {event['error'].get('message')}"
                return
            if event.get("usage"):
                record.tokens = event["usage"].get("completion_tokens", 0)
        if not done:
            record.error = "stream ended without [DONE]"
            return
        record.ok = True
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
        record.error = f"{type(error).__name__}: {error}"
    finally:
        record.end = time.perf_counter()
        if writer is not None:
            writer.close()


async def one_request(args, records):
    record = Record(time.perf_counter())
    records.append(record)
    try:
        await asyncio.wait_for(streamed_chat(args, record), REQUEST_TIMEOUT)
    except asyncio.TimeoutError:
        record.error, record.end = f"no complete answer in {REQUEST_TIMEOUT:.0f} s", time.perf_counter()


async def client(args, records, deadline):
    while time.perf_counter() < deadline:
        await one_request(args, records)


async def probe_health(address):
    """One GET /health straight to a replica: '200 ok', '503 ...', 'refused', ..."""
    host, port = split(address)
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        writer.write(f"GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(2000), 1.0)
        if not raw:
            return "connection closed without an answer"
        head, _, payload = raw.partition(b"\r\n\r\n")
        code = head.split(b"\r\n", 1)[0].split()[1].decode()
        try:
            state = json.loads(payload[payload.index(b"{"):payload.rindex(b"}") + 1]).get("status", "?")
        except ValueError:
            state = "?"
        return f"{code} {state}"
    except ConnectionRefusedError:
        return "connection refused"
    except ConnectionResetError:
        return "connection reset"
    except asyncio.TimeoutError:
        return "no answer within 1 s"
    except (OSError, IndexError, ValueError) as error:
        return f"{type(error).__name__}"
    finally:
        if writer is not None:
            writer.close()


class Drain:
    def __init__(self):
        self.t_kill = None
        self.t_exit = None
        self.returncode = None
        self.before = {}
        self.health_before = None
        self.probes = []            # (seconds after SIGTERM, outcome)
        self.log_offset = 0


async def drainer(args, replicas, procs, drain, t0):
    await asyncio.sleep(max(0.0, t0 + args.kill_at - time.perf_counter()))
    drain.before = {address: await asyncio.to_thread(snapshot, address) for address in replicas}
    drain.health_before = await probe_health(replicas[0])
    drain.log_offset = os.path.getsize(args.logs[0])
    proc = procs[0]
    proc.send_signal(signal.SIGTERM)
    drain.t_kill = time.perf_counter()
    limit = drain.t_kill + args.grace + 15
    while time.perf_counter() < limit:
        if proc.poll() is not None:
            drain.t_exit, drain.returncode = time.perf_counter(), proc.returncode
            return
        drain.probes.append((time.perf_counter() - drain.t_kill, await probe_health(replicas[0])))
        await asyncio.sleep(0.1)
    if proc.poll() is not None:
        drain.t_exit, drain.returncode = time.perf_counter(), proc.returncode


async def run_load(args, replicas, procs):
    records, drain = [], Drain()
    t0 = time.perf_counter()
    deadline = t0 + args.duration
    killer = asyncio.create_task(drainer(args, replicas, procs, drain, t0))
    await asyncio.gather(*(client(args, records, deadline) for _ in range(args.concurrency)))
    t_end = time.perf_counter()
    await killer
    return records, drain, t0, t_end


def runs(probes):
    """Collapses consecutive equal probe outcomes: [(first s, last s, outcome, count)]."""
    out = []
    for at, outcome in probes:
        if out and out[-1][2] == outcome:
            out[-1][1], out[-1][3] = at, out[-1][3] + 1
        else:
            out.append([at, at, outcome, 1])
    return out


def access_log_count(path, offset=0):
    """200s for chat completions in a replica's access log (one line per request) from `offset`."""
    count = 0
    with open(path, errors="replace") as f:
        f.seek(offset)
        for line in f:
            if "path=/v1/chat/completions" in line and re.search(r"\bstatus=200\b", line):
                count += 1
    return count


def other_log_lines(path, offset):
    """Replica log lines from `offset` that are not access-log lines (shutdown messages, errors)."""
    with open(path, errors="replace") as f:
        f.seek(offset)
        return [line.rstrip() for line in f if "path=" not in line and line.strip()]


def nginx_retries(path):
    """Requests nginx sent to more than one replica: [(upstream_addr, upstream_status)]."""
    retried = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                match = re.search(r"upstream=(.*?) upstream_status=(.*)$", line.strip())
                if match and "," in match.group(1):
                    retried.append((match.group(1), match.group(2)))
    except OSError:
        pass
    return retried


def wait_healthy(addresses, procs, timeout):
    deadline = time.time() + timeout
    pending = set(addresses)
    while pending and time.time() < deadline:
        for address, proc in zip(addresses, procs):
            if proc.poll() is not None:
                raise SystemExit(f"scale-check: replica {address} exited ({proc.returncode}) before it was ready")
            if address in pending:
                try:
                    if get(address, "/health", timeout=2)[0] == 200:
                        pending.discard(address)
                except OSError:
                    pass
        time.sleep(0.25)
    if pending:
        raise SystemExit(f"scale-check: never healthy: {', '.join(sorted(pending))}")


def stop(procs, grace):
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=grace + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--work", required=True, help="directory for pid files and replica logs")
    parser.add_argument("--lb", required=True, help="nginx host:port")
    parser.add_argument("--replica", action="append", required=True, help="host:port, twice; the first is drained")
    parser.add_argument("--server-args", default="--slots 2 --context 512 --shutdown-grace 20")
    parser.add_argument("--grace", type=float, default=20)
    parser.add_argument("--duration", type=float, default=40)
    parser.add_argument("--kill-at", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--nginx-log", default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if len(args.replica) != 2:
        parser.error("give --replica exactly twice")
    replicas = args.replica
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    procs, args.logs = [], []
    try:
        for index, address in enumerate(replicas, 1):
            host, port = split(address)
            log_path = os.path.join(args.work, f"replica{index}.log")
            args.logs.append(log_path)
            with open(log_path, "w") as log:
                proc = subprocess.Popen([args.binary, "--host", host, "--port", str(port)] + args.server_args.split(),
                                        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(proc)
            Path(args.work, f"replica{index}.pid").write_text(str(proc.pid))
        print(f"scale-check: nginx {args.lb} -> replica 1 {replicas[0]} (pid {procs[0].pid}), replica 2 {replicas[1]} (pid {procs[1].pid}); "
              f"{args.server_args}", flush=True)
        start = time.time()
        wait_healthy(replicas, procs, timeout=300)
        print(f"both replicas healthy after {time.time() - start:.1f} s", flush=True)
        args.model = json.loads(get(args.lb, "/v1/models")[1])["data"][0]["id"]
        for address in replicas:      # one uncounted warm-up request straight to each replica
            body = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}).encode()
            request = urllib.request.Request(f"http://{address}/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
        print(f"load: {args.concurrency} clients x streamed chat (max_tokens {args.max_tokens}) through nginx for {args.duration:.0f} s; "
              f"SIGTERM to replica 1 at {args.kill_at:.0f} s", flush=True)

        records, drain, t0, t_end = asyncio.run(run_load(args, replicas, procs))

        after = {replicas[1]: snapshot(replicas[1])}
        if drain.t_exit is None and procs[0].poll() is not None:
            drain.t_exit, drain.returncode = time.perf_counter(), procs[0].returncode
        # --- report ---------------------------------------------------------------------------
        ok = [r for r in records if r.ok]
        failed = [r for r in records if not r.ok]
        latencies = [r.end - r.start for r in ok]
        tk = drain.t_kill
        print(f"\nrequests: {len(records)} total, {len(ok)} ok, {len(failed)} failed in {t_end - t0:.1f} s; "
              f"{sum(r.tokens for r in ok)} tokens; latency p50 {percentile(latencies, 0.5):.2f} s, p99 {percentile(latencies, 0.99):.2f} s")
        for r in failed[:10]:
            print(f"  FAILED at {r.start - tk:+.1f} s from SIGTERM via {r.upstream or '?'}: {r.error}")
        if tk is None:
            print("replica 1 never got SIGTERM (the load ended first: raise --duration or lower --kill-at)")
            print(f"{len(ok)} passed, {len(failed) + 1} failed")
            return 1

        print("\nanswered by (nginx X-Upstream; before/after = request started before/after the SIGTERM):")
        print(f"  {'replica':<24} {'before':>7} {'after':>6}   in flight at SIGTERM")
        in_flight_r1 = []
        for index, address in enumerate(replicas, 1):
            mine = [r for r in records if r.replica == address]
            before = [r for r in mine if r.start < tk]
            after_ = [r for r in mine if r.start >= tk]
            flight = [r for r in before if r.end > tk]
            if index == 1:
                in_flight_r1 = flight
            finished = [r for r in flight if r.ok]
            note = f"{len(flight)} ({len(finished)} completed"
            note += f", last {max(r.end for r in flight) - tk:.1f} s after SIGTERM)" if flight else ")"
            print(f"  {index} {address:<22} {len(before):>7} {len(after_):>6}   {note}")
        unknown = [r for r in records if r.replica not in replicas]
        if unknown:
            print(f"  (no X-Upstream on {len(unknown)} requests)")

        print("\nreplicas' own counts (clinfer_request_duration_seconds_count = completed generations, warm-up included):")
        for index, address in enumerate(replicas, 1):
            b = drain.before.get(address) or {}
            line = (f"  {index} at SIGTERM: {b.get('completed', 0):.0f} completed, {b.get('running', 0):.0f} running, "
                    f"{b.get('waiting', 0):.0f} waiting" if b else f"  {index} at SIGTERM: /metrics did not answer")
            if index == 1:
                total = access_log_count(args.logs[0])
                late = access_log_count(args.logs[0], drain.log_offset)
                line += f"; its access log: {total} chat 200s in all, {late} of them logged after the SIGTERM"
            else:
                a = after[address] or {}
                line += f"; at the end: {a.get('completed', 0):.0f} completed (+{a.get('completed', 0) - b.get('completed', 0):.0f})"
            print(line)

        print(f"\nreplica 1 drain (--shutdown-grace {args.grace:g} s):")
        print(f"  /health just before SIGTERM: {drain.health_before}")
        if drain.t_exit is not None:
            print(f"  exited {drain.t_exit - tk:.2f} s after SIGTERM, exit status {drain.returncode}")
        else:
            print(f"  still running {args.grace + 15:.0f} s after SIGTERM")
        print("  /health (straight to replica 1) while it drained, probed every 0.1 s:")
        for first, last, outcome, count in runs(drain.probes):
            print(f"    {first:6.2f}-{last:6.2f} s: {outcome} (x{count})")
        if not drain.probes:
            print("    (exited before the first probe)")
        messages = other_log_lines(args.logs[0], drain.log_offset)
        if messages:
            print("  its log after the SIGTERM (access-log lines left out):")
            for line in messages[-8:]:
                print(f"    {line[:200]}")

        if args.nginx_log:
            retried = nginx_retries(args.nginx_log)
            print(f"\nnginx: {len(retried)} requests tried on both replicas" + (":" if retried else ""))
            for addresses, statuses in retried[:10]:
                print(f"    upstream {addresses} -> upstream_status {statuses}")
            error_log = os.path.join(os.path.dirname(args.nginx_log), "nginx-error.log")
            try:
                with open(error_log, errors="replace") as f:
                    upstream_errors = [line.strip() for line in f if "upstream" in line]
            except OSError:
                upstream_errors = []
            kinds = {}
            for line in upstream_errors:
                match = re.search(r"\] \d+#\d+: \*\d+ (.*?)(?: while |, client)", line)
                key = match.group(1) if match else line[:100]
                kinds[key] = kinds.get(key, 0) + 1
            for key, count in kinds.items():
                print(f"    error log: {key} (x{count})")

        # --- checks ---------------------------------------------------------------------------
        checks = []
        checks.append((not failed, f"every request completed ({len(failed)} failed)"))
        checks.append((bool(in_flight_r1) and all(r.ok for r in in_flight_r1),
                       f"replica 1's in-flight streams at SIGTERM all completed ({sum(r.ok for r in in_flight_r1)}/{len(in_flight_r1)})"))
        exit_ok = drain.t_exit is not None and drain.t_exit - tk <= args.grace + 5 and drain.returncode == 0
        checks.append((exit_ok, "replica 1 exited with status 0 within the grace (+5 s)"))
        served_after = sum(1 for r in records if r.ok and r.replica == replicas[1] and r.start >= tk)
        checks.append((served_after > 0, f"replica 2 took the traffic after the SIGTERM ({served_after} requests)"))
        print()
        for passed, text in checks:
            print(f"  {'ok  ' if passed else 'FAIL'} {text}")
        print(f"{len(ok)} passed, {len(failed)} failed")
        return 0 if all(passed for passed, _ in checks) else 1
    finally:
        stop(procs, args.grace)


if __name__ == "__main__":
    sys.exit(main())
