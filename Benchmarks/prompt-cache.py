#!/usr/bin/env python3
"""Time to first token of a growing chat, with and without the prompt cache, in one run.

Starts clinfer-server twice on 127.0.0.1 (--prompt-cache and --no-prompt-cache, otherwise the
same flags), plays the same 10-turn chat against each (every turn resends the whole history, as
chat UIs do; each user message ~150 tokens, so the 10th turn carries ~1 550, greedy replies of --reply-tokens), measures each
turn's time to first token with a streaming request, and prints both columns, the ratio, the
history length, the cached prompt tokens from /metrics, and whether both servers wrote the same
replies (they must: greedy). Python standard library only.

    Benchmarks/prompt-cache.py --start .build/release/clinfer-server
"""
import argparse
import json
import os
import re
import sys
import time
import urllib.request

from local_server import local_server

SENTENCES = [
    "The harbour town woke slowly, fishing boats knocking against the old stone pier while gulls argued overhead.",
    "A baker on the corner pulled the first loaves from the oven and set them to cool by the open window.",
    "Down the hill, the schoolteacher rehearsed the morning's lesson on tides, moons and the patience of water.",
    "Nobody noticed the stranger who stepped off the early ferry carrying a battered leather case and a map.",
    "She asked the ferryman about the lighthouse, the one that had been dark for eleven winters.",
    "He told her the keeper had left one night without a word, and the lamp had never been lit since.",
    "By noon the whole town knew that someone had rented the keeper's cottage for the entire season.",
    "Children made up stories about treasure, ghosts and smugglers, each wilder than the one before.",
]


def user_message(turn):
    words = " ".join(SENTENCES[(turn + i) % len(SENTENCES)] for i in range(6))
    return f"Part {turn + 1} of my story: {words} Summarise this part in one short sentence."


def post(url, body, stream=False):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=600)


def chat_turn(base, messages, reply_tokens):
    """(seconds to the first content chunk, the reply text, prompt tokens) of one streamed turn."""
    body = {"messages": messages, "max_tokens": reply_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    start = time.perf_counter()
    first, text, prompt_tokens = None, "", 0
    with post(base + "/v1/chat/completions", body) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if event.get("usage"):
                prompt_tokens = event["usage"]["prompt_tokens"]
            for choice in event.get("choices", []):
                piece = choice.get("delta", {}).get("content")
                if piece:
                    first = first or time.perf_counter() - start
                    text += piece
    return first, text, prompt_tokens


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        match = re.search(rf"^{name} ([0-9.e+]+)$", response.read().decode(), re.M)
    return float(match.group(1)) if match else 0.0


def run(binary, port, cache, args):
    flags = ["--slots", "1", "--context", str(args.context), "--embedding-model", "none",
             "--prompt-cache" if cache else "--no-prompt-cache"]
    with local_server(binary, port, flags) as base:
        messages, rows, hits = [], [], 0.0
        for turn in range(args.turns):
            messages.append({"role": "user", "content": user_message(turn)})
            ttft, text, prompt_tokens = chat_turn(base, messages, args.reply_tokens)
            messages.append({"role": "assistant", "content": text})
            now = metric(base, "clinfer_prompt_cache_hit_tokens_total")
            rows.append((ttft, text, prompt_tokens, int(now - hits)))
            hits = now
        cached = metric(base, "clinfer_prompt_cache_hit_tokens_total")
        total = metric(base, "clinfer_prompt_tokens_total")
        return rows, cached, total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=".build/release/clinfer-server", help="the clinfer-server binary")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--reply-tokens", type=int, default=16)
    parser.add_argument("--context", type=int, default=2048)
    args = parser.parse_args()
    if not os.path.exists(args.start):
        sys.exit(f"no server binary at {args.start}")
    with_cache, cached, total = run(args.start, args.port, True, args)
    without, _, _ = run(args.start, args.port + 1, False, args)
    print("turn  prompt tokens  from cache  TTFT cached (s)  TTFT uncached (s)  speed-up")
    for turn, ((a, _, tokens, hit), (b, _, _, _)) in enumerate(zip(with_cache, without)):
        print(f"{turn + 1:>4}  {tokens:>13}  {hit:>10}  {a:>15.3f}  {b:>17.3f}  {b / a:>7.1f}x")
    same = [a[1] for a in with_cache] == [b[1] for b in without]
    print(f"cached prompt tokens: {cached:.0f} of {total:.0f} ({cached / max(total, 1):.0%}); "
          f"replies identical with and without the cache: {same}")
    last = without[-1][0] / with_cache[-1][0]
    print(f"turn {args.turns}: {last:.1f}x faster to the first token with the prompt cache")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
