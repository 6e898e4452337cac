#!/usr/bin/env python3
"""How long a running stream stalls while a long prompt arrives, with chunked prefill and without.

Starts clinfer-server twice on 127.0.0.1 (--prefill-chunk CHUNK, then a chunk larger than any
prompt: the whole prompt in one pass), each time runs one streaming completion generating 160
tokens (ignore_eos), sends a ~2000-token prompt once that stream has produced 20 tokens, and
reports the stream's largest gap between two tokens, its median gap, and the long prompt's time
to first token. Python standard library only.

    Benchmarks/prefill-stall.py --start .build/release/clinfer-server
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request

from local_server import local_server

LONG_PROMPT = " ".join(
    f"Line {i}: the lighthouse keeper counted ships, storms and stars, and wrote each one down." for i in range(95))


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=600)


def run(binary, port, chunk, context):
    flags = ["--slots", "2", "--context", str(context), "--embedding-model", "none", "--no-prompt-cache",
             "--prefill-chunk", str(chunk)]
    with local_server(binary, port, flags) as base:
        long_result = {}

        def send_long():
            start = time.perf_counter()
            with post(base + "/v1/completions", {"prompt": LONG_PROMPT, "max_tokens": 1, "temperature": 0}) as r:
                body = json.loads(r.read())
            long_result["ttft"] = time.perf_counter() - start
            long_result["tokens"] = body["usage"]["prompt_tokens"]

        times, sender = [], None
        body = {"prompt": "Once upon a time", "max_tokens": 160, "temperature": 0, "ignore_eos": True, "stream": True}
        with post(base + "/v1/completions", body) as response:
            for raw in response:
                line = raw.decode().strip()
                if line.startswith("data: {"):
                    times.append(time.perf_counter())
                    if len(times) == 20:
                        sender = threading.Thread(target=send_long)
                        sender.start()
        sender.join()
        gaps = [b - a for a, b in zip(times, times[1:])]
        return max(gaps), statistics.median(gaps), long_result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=".build/release/clinfer-server")
    parser.add_argument("--port", type=int, default=18095)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    print("prefill           largest gap (s)  median gap (s)  long prompt tokens  its TTFT (s)")
    for label, chunk, port in [(f"chunks of {args.chunk}", args.chunk, args.port),
                               ("whole prompt", 1 << 20, args.port + 1)]:
        largest, median, long = run(args.start, port, chunk, args.context)
        print(f"{label:<16}  {largest:>15.3f}  {median:>14.3f}  {long['tokens']:>18}  {long['ttft']:>12.3f}")


if __name__ == "__main__":
    main()
