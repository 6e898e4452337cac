#!/usr/bin/env python3
"""Load test for clinfer-server: N concurrent streaming clients against a local server.

After a few uncounted warm-up requests, runs one phase per concurrency level (default 1, 4, 16). In a phase every client sends streamed
chat completions back to back until the phase's request budget or time limit is used up
(bounded: the script always stops by itself). Clients mix valid requests with invalid ones
(malformed JSON, out-of-range parameters: expected 400) and ones that disconnect mid-stream;
the two extra kinds are off in the throughput phases unless asked for, and on in the final
"mixed" phase. Reports per phase: aggregate generated tok/s, time to first token p50/p99,
request latency p50/p99, errors, and the server's RSS before and after; at the end it checks
/metrics shows no request still running or waiting (disconnects freed their slots).

Standard library only (asyncio sockets, HTTP/1.1 + SSE by hand), so it runs anywhere Python 3.8+
does. Examples:

    Benchmarks/server-load.py --start .build-server/release/clinfer-server      # starts and stops a server
    Benchmarks/server-load.py --url http://127.0.0.1:8080 --pid $(pgrep -n clinfer-server)
    Benchmarks/server-load.py --start BIN --levels 1,4,16 --max-tokens 64 --requests 3 --json
"""
import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle works.",
    "List some facts about the moon.",
    "Describe your ideal weekend.",
    "What makes a good cup of tea?",
]


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def rss_mb(pid):
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Result:
    def __init__(self):
        self.ok = 0
        self.tokens = 0
        self.ttft = []
        self.latency = []
        self.rejected = 0          # 429
        self.invalid_ok = 0        # invalid request answered 4xx as expected
        self.disconnected = 0      # client hung up mid-stream on purpose
        self.errors = []           # anything unexpected


async def http_request(host, port, method, path, body, api_key=None):
    """Opens a connection, sends one request; returns (reader, writer, status, headers)."""
    reader, writer = await asyncio.open_connection(host, port)
    headers = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
               f"Content-Length: {len(body)}", "Connection: close"]
    if api_key:
        headers.append(f"Authorization: Bearer {api_key}")
    writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    response_headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        response_headers[name.strip().lower()] = value.strip()
    return reader, writer, status, response_headers


async def sse_events(reader, headers):
    """Yields the JSON object of each `data:` event of a server-sent-event response, then None for
    `data: [DONE]` (and stops); a stream that ends without `[DONE]` simply stops."""
    async for line in read_chunked_lines(reader, headers):
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            yield None
            return
        yield json.loads(data)


async def read_chunked_lines(reader, headers):
    """Yields body lines of a chunked (or plain) response."""
    if headers.get("transfer-encoding", "").lower() != "chunked":
        while True:
            line = await reader.readline()
            if not line:
                return
            yield line
        return
    pending = b""
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return
        data = await reader.readexactly(size)
        await reader.readline()
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line + b"\n"


async def streamed_chat(args, result, kind):
    body = {"model": args.model, "messages": [{"role": "user", "content": random.choice(PROMPTS)}],
            "max_tokens": args.max_tokens, "stream": True, "stream_options": {"include_usage": True},
            "temperature": 0.7, "seed": random.randrange(1 << 31), "ignore_eos": args.ignore_eos}
    if kind == "invalid":
        payload = random.choice([b'{"messages": [', json.dumps({"messages": [], "stream": True}).encode(),
                                 json.dumps({**body, "temperature": 9}).encode(), json.dumps({**body, "model": "no-such-model"}).encode()])
    else:
        payload = json.dumps(body).encode()
    start = time.perf_counter()
    try:
        reader, writer, status, headers = await http_request(args.host, args.port, "POST", "/v1/chat/completions", payload, args.api_key)
    except (OSError, asyncio.IncompleteReadError) as error:
        result.errors.append(f"connect: {error}")
        return
    try:
        if kind == "invalid":
            if 400 <= status < 500 and status != 429:
                result.invalid_ok += 1
            else:
                result.errors.append(f"invalid request answered {status}")
            return
        if status == 429:
            result.rejected += 1
            return
        if status != 200:
            result.errors.append(f"status {status}")
            return
        first = None
        tokens = None
        done = False
        chunks = 0
        async for event in sse_events(reader, headers):
            if event is None:
                done = True
                break
            if "error" in event:
                result.errors.append(f"stream error: {event['error'].get('code')}")
                return
            if event.get("usage"):
                tokens = event["usage"]["completion_tokens"]
            for choice in event.get("choices", []):
                if choice.get("delta", {}).get("content"):
                    chunks += 1
                    if first is None:
                        first = time.perf_counter()
            if kind == "disconnect" and chunks >= 3:
                result.disconnected += 1
                return
        end = time.perf_counter()
        if not done:
            result.errors.append("stream ended without [DONE]")
            return
        result.ok += 1
        result.tokens += tokens or 0
        if first is not None:
            result.ttft.append(first - start)
        result.latency.append(end - start)
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        result.errors.append(f"read: {error!r}")
    finally:
        writer.close()


async def client(args, result, deadline, budget, mix):
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        roll = random.random()
        kind = "invalid" if roll < mix[0] else "disconnect" if roll < mix[0] + mix[1] else "valid"
        await streamed_chat(args, result, kind)


async def phase_requests(args, result, count):
    for _ in range(count):
        await streamed_chat(args, result, "valid")


async def phase(args, concurrency, mix):
    result = Result()
    budget = [concurrency * args.requests]
    start = time.perf_counter()
    deadline = start + args.duration
    await asyncio.gather(*(client(args, result, deadline, budget, mix) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return result, elapsed


def get(args, path):
    request = urllib.request.Request(f"http://{args.host}:{args.port}{path}")
    if args.api_key:
        request.add_header("Authorization", f"Bearer {args.api_key}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read().decode()


def wait_healthy(args, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if get(args, "/health")[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def stop_server(server):
    """SIGTERM (graceful shutdown), then SIGKILL if it is still running after 40 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="server to test (default %(default)s)")
    parser.add_argument("--start", metavar="BIN", help="start this clinfer-server binary on --url's port first, stop it at the end")
    parser.add_argument("--server-args", default="", help="extra flags for --start (e.g. '--slots 16 --device opencl')")
    parser.add_argument("--pid", type=int, help="server process id, for RSS (default: the started server)")
    parser.add_argument("--api-key", default=os.environ.get("CLINFER_API_KEY"))
    parser.add_argument("--model", default=None, help="model id to send (default: the server's first)")
    parser.add_argument("--levels", default="1,4,16", help="concurrency levels, comma-separated (default %(default)s)")
    parser.add_argument("--requests", type=int, default=2, help="requests per client per level (default %(default)s)")
    parser.add_argument("--duration", type=float, default=120, help="time limit per level in seconds (default %(default)s)")
    parser.add_argument("--max-tokens", type=int, default=64, help="tokens per request (default %(default)s)")
    parser.add_argument("--no-ignore-eos", dest="ignore_eos", action="store_false", help="let requests stop at end-of-sequence (lengths then vary)")
    parser.add_argument("--invalid", type=float, default=0.15, help="share of invalid requests in the mixed phase (default %(default)s)")
    parser.add_argument("--disconnect", type=float, default=0.15, help="share of clients hanging up mid-stream in the mixed phase (default %(default)s)")
    parser.add_argument("--mixed", type=int, default=8, help="concurrency of the final mixed phase, 0 to skip (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted requests before the first phase (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for prompts and the request mix (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print one JSON object per phase")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    args.host, args.port = url.hostname or "127.0.0.1", url.port or 8080

    server = None
    if args.start:
        command = [args.start, "--host", args.host, "--port", str(args.port)] + args.server_args.split()
        print("starting:", " ".join(command), file=sys.stderr)
        server = subprocess.Popen(command, stderr=subprocess.DEVNULL if not os.environ.get("CLINFER_LOAD_LOG") else None)
        args.pid = args.pid or server.pid
    try:
        if not wait_healthy(args):
            sys.exit("the server never became healthy")
        if args.model is None:
            args.model = json.loads(get(args, "/v1/models")[1])["data"][0]["id"]
        random.seed(args.seed)
        if args.warmup > 0:
            warm = Result()
            asyncio.run(phase_requests(args, warm, args.warmup))
            if warm.errors:
                sys.exit(f"warm-up failed: {warm.errors[0]}")
        levels = [int(level) for level in args.levels.split(",") if level]
        phases = [(f"{level} stream{'s' if level > 1 else ''}", level, (0.0, 0.0)) for level in levels]
        if args.mixed > 0:
            phases.append((f"mixed x{args.mixed}", args.mixed, (args.invalid, args.disconnect)))
        rss_start = rss_mb(args.pid)
        print(f"server RSS before: {rss_start:.0f} MiB" if rss_start else "server RSS: unknown (give --pid)")
        print(f"{'phase':<12} {'requests':>8} {'tokens':>7} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9} {'lat p50':>8} {'lat p99':>8} "
              f"{'429':>4} {'4xx ok':>6} {'hangups':>7} {'errors':>6} {'RSS MiB':>8}")
        rows = []
        for name, concurrency, mix in phases:
            result, elapsed = asyncio.run(phase(args, concurrency, mix))
            rss = rss_mb(args.pid)
            row = {"phase": name, "concurrency": concurrency, "requests_ok": result.ok, "tokens": result.tokens,
                   "tok_s": result.tokens / elapsed if elapsed > 0 else 0, "seconds": elapsed,
                   "ttft_p50_ms": percentile(result.ttft, 0.5) * 1e3, "ttft_p99_ms": percentile(result.ttft, 0.99) * 1e3,
                   "latency_p50_ms": percentile(result.latency, 0.5) * 1e3, "latency_p99_ms": percentile(result.latency, 0.99) * 1e3,
                   "rejected_429": result.rejected, "invalid_answered_4xx": result.invalid_ok, "disconnected": result.disconnected,
                   "errors": len(result.errors), "rss_mib": rss}
            rows.append(row)
            print(f"{name:<12} {result.ok:>8} {result.tokens:>7} {row['tok_s']:>8.1f} {row['ttft_p50_ms']:>7.0f}ms {row['ttft_p99_ms']:>7.0f}ms "
                  f"{row['latency_p50_ms']/1e3:>7.2f}s {row['latency_p99_ms']/1e3:>7.2f}s {result.rejected:>4} {result.invalid_ok:>6} "
                  f"{result.disconnected:>7} {len(result.errors):>6} {rss or 0:>8.0f}")
            for error in sorted(set(result.errors))[:5]:
                print(f"    error: {error} (x{result.errors.count(error)})")
            if args.json:
                print(json.dumps(row))
        time.sleep(0.5)
        metrics = get(args, "/metrics")[1]
        running, waiting = metric(metrics, "clinfer_requests_running"), metric(metrics, "clinfer_requests_waiting")
        rss_end = rss_mb(args.pid)
        if rss_start and rss_end:
            print(f"server RSS after: {rss_end:.0f} MiB ({rss_end - rss_start:+.0f} MiB)")
        print(f"after the run: {running:.0f} running, {waiting:.0f} waiting (both must be 0)")
        if len(rows) > 1 and rows[0]["tok_s"] > 0:
            for row in rows[1:]:
                print(f"  {row['phase']}: {row['tok_s'] / rows[0]['tok_s']:.2f}x the single-stream tok/s")
        failed = running != 0 or waiting != 0 or any(row["errors"] for row in rows)
        sys.exit(1 if failed else 0)
    finally:
        if server:
            stop_server(server)


if __name__ == "__main__":
    main()
