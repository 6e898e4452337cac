#!/usr/bin/env python3
"""Soak test for clinfer-server: mixed traffic for a long time, watching memory and leftovers.

N clients send requests back to back for --duration seconds, each picked at random from:
valid chat completions and completions (streamed and not, short max_tokens), valid embeddings
(float and base64), invalid requests (malformed JSON, empty bodies, wrong types, out-of-range
values: 400; an unknown model: 404) and clients that hang up mid-stream (or before a non-streamed
answer). The server's RSS (/proc/PID/status VmRSS) and its running/waiting gauges are sampled every
--sample seconds. At the end it prints the RSS table, the RSS growth from the first sample after the
warm-up (--warmup, default the first minute; a third of --duration for short runs) to the last, the
errors on valid requests, unexpected statuses on invalid ones, p50/p99 latency per request kind,
and what /metrics says is still running or waiting.

Checks, ending with "N passed, M failed" (exit 1 if any failed): no errors on valid requests;
invalid requests get their expected 4xx with an OpenAI error body; RSS growth <= --rss-limit
percent (default 10); nothing running or waiting afterwards; the server still alive.

Standard library only. Examples:

    scripts/soak.py --start .build/release/clinfer-server --duration 600           # starts and stops a server
    scripts/soak.py --url http://127.0.0.1:8080 --pid $(pgrep -n clinfer-server) --duration 3600
    scripts/soak.py --start BIN --server-args '--slots 2 --context 512' --duration 90 --port 18095
"""
import argparse
import asyncio
import base64
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("server_load", ROOT / "Benchmarks" / "server-load.py")
server_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(server_load)
http_request, sse_events, percentile, rss_mb = (server_load.http_request, server_load.sse_events,
                                                 server_load.percentile, server_load.rss_mb)
PROMPTS = server_load.PROMPTS + ["Name three colours.", "Say hello in French.", "Count from one to five."]
TEXTS = ["The quick brown fox jumps over the lazy dog.", "A sentence to embed.", "Soak tests find slow leaks.",
         "Paris is the capital of France.", "Embeddings map text to vectors."]

# Valid kinds and their weights; "invalid" and the hang-ups are the other kinds.
KINDS = {"chat": 14, "chat-stream": 18, "completion": 10, "completion-stream": 8, "embeddings": 12,
         "invalid": 22, "hangup-stream": 10, "hangup": 4}
VALID = ["chat", "chat-stream", "completion", "completion-stream", "embeddings"]


def invalid_requests(model):
    """(name, path, body bytes, expected status) for requests the server must refuse."""
    chat = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}
    dumps = lambda value: json.dumps(value).encode()
    return [
        ("chat: malformed JSON", "/v1/chat/completions", b'{"messages": [', 400),
        ("chat: empty body", "/v1/chat/completions", b"", 400),
        ("chat: no messages", "/v1/chat/completions", dumps({**chat, "messages": []}), 400),
        ("chat: content of the wrong type", "/v1/chat/completions", dumps({**chat, "messages": [{"role": "user", "content": 5}]}), 400),
        ("chat: temperature 9", "/v1/chat/completions", dumps({**chat, "temperature": 9}), 400),
        ("chat: top_p 0", "/v1/chat/completions", dumps({**chat, "top_p": 0}), 400),
        ("chat: max_tokens 0", "/v1/chat/completions", dumps({**chat, "max_tokens": 0}), 400),
        ("chat: max_tokens past the context", "/v1/chat/completions", dumps({**chat, "max_tokens": 10_000_000}), 400),
        ("chat: n 2", "/v1/chat/completions", dumps({**chat, "n": 2}), 400),
        ("chat: presence_penalty 5", "/v1/chat/completions", dumps({**chat, "presence_penalty": 5}), 400),
        ("chat: streamed, temperature -1", "/v1/chat/completions", dumps({**chat, "stream": True, "temperature": -1}), 400),
        ("chat: unknown model", "/v1/chat/completions", dumps({**chat, "model": "no-such-model"}), 404),
        ("completion: no prompt", "/v1/completions", dumps({"max_tokens": 4}), 400),
        ("completion: malformed JSON", "/v1/completions", b'{"prompt": "x", ', 400),
        ("completion: frequency_penalty 3", "/v1/completions", dumps({"prompt": "x", "max_tokens": 4, "frequency_penalty": 3}), 400),
        ("completion: empty stop string", "/v1/completions", dumps({"prompt": "x", "max_tokens": 4, "stop": [""]}), 400),
        ("embeddings: empty input list", "/v1/embeddings", dumps({"input": []}), 400),
        ("embeddings: input of the wrong type", "/v1/embeddings", dumps({"input": {"text": "x"}}), 400),
        ("embeddings: encoding_format hex", "/v1/embeddings", dumps({"input": "x", "encoding_format": "hex"}), 400),
        ("embeddings: malformed JSON", "/v1/embeddings", b'{"input": ["a", ', 400),
    ]


class Stats:
    def __init__(self):
        self.latency = {kind: [] for kind in VALID}
        self.sent = {kind: 0 for kind in KINDS}
        self.ok = {kind: 0 for kind in KINDS}
        self.errors = []               # (kind, message) on valid requests
        self.invalid_unexpected = []   # (name, expected, got)
        self.cancel_early = 0          # hang-up requests that finished before the client could hang up


async def read_body(reader, headers):
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readline()
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()


def check_json(kind, body, expect):
    """Returns an error message, or None when the answer has the shape expected."""
    data = json.loads(body)
    if kind == "embeddings":
        items = data.get("data", [])
        if len(items) != expect["inputs"]:
            return f"{len(items)} embeddings for {expect['inputs']} inputs"
        for item in items:
            vector = item.get("embedding")
            if expect["format"] == "base64":
                if not isinstance(vector, str) or len(base64.b64decode(vector)) % 4 or not vector:
                    return "bad base64 embedding"
            elif not isinstance(vector, list) or not vector or not all(isinstance(x, (int, float)) for x in vector[:8]):
                return "bad float embedding"
        return None
    choices = data.get("choices") or []
    if len(choices) != expect["choices"]:
        return f"{len(choices)} choices, expected {expect['choices']}"
    for choice in choices:
        text = choice.get("message", {}).get("content") if kind == "chat" else choice.get("text")
        if not isinstance(text, str):
            return "no text in a choice"
        if choice.get("finish_reason") not in ("stop", "length"):
            return f"finish_reason {choice.get('finish_reason')!r}"
    usage = data.get("usage") or {}
    if not (0 <= usage.get("completion_tokens", -1) <= expect["max_tokens"] * expect["choices"]):
        return f"usage.completion_tokens {usage.get('completion_tokens')}"
    return None


def valid_request(args, kind):
    """(path, body, expectations) for a valid request of `kind`."""
    max_tokens = random.randint(4, args.max_tokens)
    seed = random.randrange(1 << 31)
    if kind.startswith("chat") or kind.startswith("hangup"):
        hangup = kind.startswith("hangup")
        body = {"messages": [{"role": "system", "content": "You are brief."}, {"role": "user", "content": random.choice(PROMPTS)}],
                "max_tokens": 64 if hangup else max_tokens, "temperature": random.choice([0, 0.7, 1.0]), "seed": seed,
                "ignore_eos": hangup}
        if random.random() < 0.5:
            body["model"] = args.model
        if kind.endswith("stream"):
            body["stream"] = True
            if random.random() < 0.5:
                body["stream_options"] = {"include_usage": True}
        return "/v1/chat/completions", body, {"choices": 1, "max_tokens": body["max_tokens"]}
    if kind.startswith("completion"):
        prompt = random.choice([random.choice(PROMPTS), ["Once upon a time", "The sky is"]])
        body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.8, "top_p": 0.95, "seed": seed}
        if random.random() < 0.3:
            body["stop"] = ["\n\n"]
        if kind.endswith("stream"):
            body["stream"] = True
        return "/v1/completions", body, {"choices": len(prompt) if isinstance(prompt, list) else 1, "max_tokens": max_tokens}
    inputs = random.sample(TEXTS, random.randint(1, 4))
    body = {"input": inputs[0] if len(inputs) == 1 and random.random() < 0.5 else inputs,
            "encoding_format": random.choice(["float", "base64"])}
    if args.embedding_model and random.random() < 0.5:
        body["model"] = args.embedding_model
    return "/v1/embeddings", body, {"inputs": len(inputs), "format": body["encoding_format"]}


async def one_request(args, stats, kind):
    stats.sent[kind] += 1
    writer = None
    start = time.perf_counter()
    if kind == "invalid":
        name, path, payload, expected = random.choice(args.invalid)
    else:
        path, body, expect = valid_request(args, kind)
        payload = json.dumps(body).encode()
    try:
        reader, writer, status, headers = await http_request(args.host, args.port, "POST", path, payload, args.api_key)
        if kind == "invalid":
            answer = await read_body(reader, headers)
            try:
                shaped = isinstance(json.loads(answer).get("error", {}).get("message"), str)
            except (ValueError, AttributeError):
                shaped = False
            if status == expected and shaped:
                stats.ok[kind] += 1
            else:
                stats.invalid_unexpected.append((name, expected, status if shaped else f"{status} without an OpenAI error body"))
            return
        if status != 200:
            text = (await read_body(reader, headers))[:200].decode(errors="replace")
            stats.errors.append((kind, f"status {status}: {text}"))
            return
        if "stream" in kind:
            done, role, finish, chunks = False, False, False, 0
            async for event in sse_events(reader, headers):
                if event is None:
                    done = True
                    break
                if "error" in event:
                    stats.errors.append((kind, f"stream error event: {event['error'].get('code')}"))
                    return
                for choice in event.get("choices", []):
                    delta = choice.get("delta", {})
                    role = role or delta.get("role") == "assistant"
                    if delta.get("content") or choice.get("text"):
                        chunks += 1
                    finish = finish or choice.get("finish_reason") in ("stop", "length")
                if kind == "hangup-stream" and chunks >= 2:
                    stats.ok[kind] += 1          # hang up mid-stream
                    return
            if kind == "hangup-stream":
                stats.ok[kind] += 1
                stats.cancel_early += 1
                return
            if not done:
                stats.errors.append((kind, "stream ended without [DONE]"))
            elif not finish or (kind == "chat-stream" and not role):
                stats.errors.append((kind, "stream without a finish_reason" if not finish else "stream without the assistant role"))
            else:
                stats.ok[kind] += 1
                stats.latency[kind].append(time.perf_counter() - start)
            return
        problem = check_json(kind, await read_body(reader, headers), expect)
        if problem:
            stats.errors.append((kind, problem))
        else:
            stats.ok[kind] += 1
            stats.latency[kind].append(time.perf_counter() - start)
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError, KeyError, TypeError) as error:
        if kind == "invalid":
            stats.invalid_unexpected.append((name, expected, f"{type(error).__name__}: {error}"))
        else:
            stats.errors.append((kind, f"{type(error).__name__}: {error}"))
    finally:
        if writer is not None:
            writer.close()


async def hangup_before_answer(args, stats):
    """Sends a non-streamed chat request and closes the connection 0.2-0.6 s later, unanswered."""
    stats.sent["hangup"] += 1
    path, body, _ = valid_request(args, "hangup")
    payload = json.dumps(body).encode()
    try:
        reader, writer = await asyncio.open_connection(args.host, args.port)
    except OSError as error:
        stats.errors.append(("hangup", f"connect: {error}"))
        return
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {args.host}:{args.port}", "Content-Type: application/json",
                f"Content-Length: {len(payload)}", "Connection: close"]
        if args.api_key:
            head.append(f"Authorization: Bearer {args.api_key}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), random.uniform(0.2, 0.6))
            stats.cancel_early += 1        # answered before we hung up
            if line and int(line.split()[1]) != 200:
                stats.errors.append(("hangup", f"status {line.split()[1].decode()}"))
                return
        except asyncio.TimeoutError:
            pass
        stats.ok["hangup"] += 1
    except (OSError, IndexError, ValueError) as error:
        stats.errors.append(("hangup", f"{type(error).__name__}: {error}"))
    finally:
        writer.close()


async def client(args, stats, deadline, kinds, weights):
    while time.perf_counter() < deadline:
        kind = random.choices(kinds, weights)[0]
        try:
            if kind == "hangup":
                await asyncio.wait_for(hangup_before_answer(args, stats), args.timeout)
            else:
                await asyncio.wait_for(one_request(args, stats, kind), args.timeout)
        except asyncio.TimeoutError:
            (stats.invalid_unexpected.append(("?", "4xx", "no answer in time")) if kind == "invalid"
             else stats.errors.append((kind, f"no complete answer in {args.timeout:.0f} s")))


def get(args, path, timeout=5):
    request = urllib.request.Request(f"http://{args.host}:{args.port}{path}")
    if args.api_key:
        request.add_header("Authorization", f"Bearer {args.api_key}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def gauges(args):
    try:
        text = get(args, "/metrics")[1]
    except OSError:
        return None
    return {name: server_load.metric(text, f"clinfer_{name}") for name in
            ("requests_running", "requests_waiting", "requests_cancelled_total", "generated_tokens_total")}


async def sampler(args, stats, samples, t0, deadline):
    """Every --sample seconds until the load ends: (t, RSS MiB, gauges, valid ok so far, valid errors)."""
    while True:
        g = await asyncio.to_thread(gauges, args)
        samples.append((time.perf_counter() - t0, rss_mb(args.pid), g, sum(stats.ok[k] for k in VALID), len(stats.errors),
                        stats.ok["invalid"], stats.ok["hangup"] + stats.ok["hangup-stream"]))
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        await asyncio.sleep(min(args.sample, remaining))


async def soak(args, stats, samples):
    kinds = [k for k in KINDS if args.embedding_model or k != "embeddings"]
    weights = [KINDS[k] for k in kinds]
    t0 = time.perf_counter()
    deadline = t0 + args.duration
    sampling = asyncio.create_task(sampler(args, stats, samples, t0, deadline))
    await asyncio.gather(*(client(args, stats, deadline, kinds, weights) for _ in range(args.concurrency)))
    await sampling
    return t0


def wait_healthy(args, server, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server and server.poll() is not None:
            return False
        try:
            if get(args, "/health", timeout=2)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def alive(args, server):
    if server:
        return server.poll() is None
    if args.pid:
        try:
            with open(f"/proc/{args.pid}/status") as f:
                return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
        except OSError:
            return False
    try:
        return get(args, "/health")[0] == 200
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="server to test (default %(default)s)")
    parser.add_argument("--start", metavar="BIN", help="start this clinfer-server binary on --url's host and port, stop it at the end")
    parser.add_argument("--port", type=int, help="shorthand for --url http://127.0.0.1:PORT")
    parser.add_argument("--server-args", default="", help="extra flags for --start (e.g. '--slots 2 --context 512')")
    parser.add_argument("--pid", type=int, help="server process id, for RSS (default: the started server)")
    parser.add_argument("--api-key", default=os.environ.get("CLINFER_API_KEY"))
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=6, help="clients (default %(default)s)")
    parser.add_argument("--warmup", type=float, default=60,
                        help="RSS baseline: the first sample at or after this many seconds (default %(default)s; "
                             "a third of --duration when that is shorter)")
    parser.add_argument("--sample", type=float, default=10, help="seconds between RSS samples (default %(default)s)")
    parser.add_argument("--rss-limit", type=float, default=10, help="largest RSS growth in %% after the warm-up (default %(default)s)")
    parser.add_argument("--max-tokens", type=int, default=16, help="largest max_tokens of valid requests (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a request may take (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.port:
        args.url = f"http://127.0.0.1:{args.port}"
    url = urllib.parse.urlparse(args.url)
    args.host, args.port = url.hostname or "127.0.0.1", url.port or 8080
    args.warmup = min(args.warmup, args.duration / 3)
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    server, log = None, None
    if args.start:
        command = [args.start, "--host", args.host, "--port", str(args.port)] + args.server_args.split()
        log = tempfile.NamedTemporaryFile(prefix="clinfer-soak-", suffix=".log", delete=False)
        print("starting:", " ".join(command), f"(log {log.name})", flush=True)
        server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        args.pid = args.pid or server.pid
    failed_checks = 1
    try:
        if not wait_healthy(args, server):
            print("the server never became healthy")
            return 1
        ids = [m["id"] for m in json.loads(get(args, "/v1/models")[1])["data"]]
        args.model, args.embedding_model = ids[0], ids[1] if len(ids) > 1 else None
        args.invalid = [r for r in invalid_requests(args.model) if args.embedding_model or not r[1].endswith("embeddings")]
        start_gauges = gauges(args) or {}
        print(f"soak: {args.url} (pid {args.pid or '?'}), models {', '.join(ids)}; {args.concurrency} clients, {args.duration:.0f} s of "
              f"mixed traffic; RSS every {args.sample:g} s, baseline the first sample at or after {args.warmup:.0f} s", flush=True)

        stats, samples = Stats(), []
        t0 = asyncio.run(soak(args, stats, samples))
        elapsed = time.perf_counter() - t0
        # Let disconnects be noticed, then the last sample, idle.
        final = None
        for _ in range(20):
            time.sleep(0.5)
            final = gauges(args)
            if final and final["requests_running"] == 0 and final["requests_waiting"] == 0:
                break
        samples.append((time.perf_counter() - t0, rss_mb(args.pid), final, sum(stats.ok[k] for k in VALID), len(stats.errors),
                        stats.ok["invalid"], stats.ok["hangup"] + stats.ok["hangup-stream"]))

        # --- report ---------------------------------------------------------------------------
        baseline = next((s for s in samples if s[0] >= args.warmup and s[1]), None)
        print(f"\n{'t s':>6} {'RSS MiB':>9} {'vs base':>8} {'valid ok':>9} {'errors':>7} {'4xx ok':>7} {'hangups':>8} {'running':>8} {'waiting':>8} {'tokens out':>11}")
        for t, rss, g, ok, errors, invalid_ok, hangups in samples:
            delta = f"{(rss / baseline[1] - 1) * 100:+.1f}%" if baseline and rss and t >= baseline[0] else "-"
            g = g or {}
            fmt = lambda v: f"{v:.0f}" if v is not None else "?"
            print(f"{t:6.0f} {rss or 0:9.1f} {delta:>8} {ok:>9} {errors:>7} {invalid_ok:>7} {hangups:>8} "
                  f"{fmt(g.get('requests_running')):>8} {fmt(g.get('requests_waiting')):>8} {fmt(g.get('generated_tokens_total')):>11}")

        valid_sent = sum(stats.sent[k] for k in VALID) + stats.sent["hangup"] + stats.sent["hangup-stream"]
        print(f"\n{'kind':<18} {'sent':>6} {'ok':>6} {'errors':>7} {'p50 s':>7} {'p99 s':>7}")
        for kind in KINDS:
            errors = (len(stats.invalid_unexpected) if kind == "invalid" else sum(1 for k, _ in stats.errors if k == kind))
            lat = stats.latency.get(kind, [])
            p50 = f"{percentile(lat, 0.5):7.2f}" if lat else f"{'-':>7}"
            p99 = f"{percentile(lat, 0.99):7.2f}" if lat else f"{'-':>7}"
            print(f"{kind:<18} {stats.sent[kind]:>6} {stats.ok[kind]:>6} {errors:>7} {p50} {p99}")
        all_latency = [x for kind in VALID for x in stats.latency[kind]]
        print(f"{'valid (all kinds)':<18} {sum(stats.sent[k] for k in VALID):>6} {sum(stats.ok[k] for k in VALID):>6} "
              f"{sum(1 for k, _ in stats.errors if k in VALID):>7} {percentile(all_latency, 0.5):7.2f} {percentile(all_latency, 0.99):7.2f}")
        total = sum(stats.sent.values())
        print(f"{total} requests in {elapsed:.0f} s ({total / elapsed:.1f}/s)")
        for message in sorted(set(f"{k}: {m}" for k, m in stats.errors))[:10]:
            print(f"  error on a valid request: {message} (x{sum(1 for k, m in stats.errors if f'{k}: {m}' == message)})")
        for entry in sorted(set(stats.invalid_unexpected), key=str)[:10]:
            print(f"  invalid request {entry[0]!r}: expected {entry[1]}, got {entry[2]} (x{stats.invalid_unexpected.count(entry)})")
        hangups = stats.ok["hangup"] + stats.ok["hangup-stream"]
        cancelled = ((final or {}).get("requests_cancelled_total") or 0) - (start_gauges.get("requests_cancelled_total") or 0)
        print(f"hang-ups: {hangups} ({stats.cancel_early} finished before the client could hang up); "
              f"the server counted {cancelled:.0f} cancellations")

        running = (final or {}).get("requests_running")
        waiting = (final or {}).get("requests_waiting")
        last = samples[-1]
        growth = (last[1] / baseline[1] - 1) * 100 if baseline and last[1] else None
        if growth is not None:
            print(f"RSS: {baseline[1]:.1f} MiB at {baseline[0]:.0f} s (baseline) -> {last[1]:.1f} MiB at {last[0]:.0f} s: "
                  f"{growth:+.1f} % (limit {args.rss_limit:g} %); first sample {samples[0][1] or 0:.1f} MiB")
        else:
            print("RSS: not measured (give --pid or --start)")
        show = lambda value: f"{value:.0f}" if value is not None else "?"
        print(f"after the run: {show(running)} running, {show(waiting)} waiting (/metrics)")

        checks = [
            (not stats.errors, f"no errors on valid requests ({len(stats.errors)} of {valid_sent}, hang-ups included)"),
            (not stats.invalid_unexpected, f"invalid requests answered with their expected status "
                                           f"({stats.ok['invalid']}/{stats.sent['invalid']})"),
            (growth is not None and growth <= args.rss_limit,
             f"RSS growth after the warm-up {growth:+.1f} % <= {args.rss_limit:g} %" if growth is not None else "RSS growth measured"),
            (running == 0 and waiting == 0, "nothing running or waiting after the run"),
            (alive(args, server), "the server is still running"),
        ]
        print()
        for passed, text in checks:
            print(f"  {'ok  ' if passed else 'FAIL'} {text}")
        failed_checks = sum(1 for passed, _ in checks if not passed)
        print(f"{len(checks) - failed_checks} passed, {failed_checks} failed")
        return 1 if failed_checks else 0
    finally:
        if server:
            server_load.stop_server(server)
            if failed_checks and log:
                print(f"server log: {log.name}")
            elif log:
                os.unlink(log.name)


if __name__ == "__main__":
    sys.exit(main())
