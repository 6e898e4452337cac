#!/usr/bin/env python3
"""Structured output against a running clinfer-server: every generation under a random JSON
schema parses and validates, greedy and sampled; bad schemas are 400s naming the keyword; and
the grammar's cost per decoded token, measured.

    python3 scripts/structured-output-check.py --base-url http://127.0.0.1:8080/v1 --schemas 200

Seeded (--seed) random schemas: objects of 1-4 properties nested up to 2 deep, strings with
length limits and escapes, integers, numbers, booleans, null, enums, arrays with item limits,
required subsets, additionalProperties false. Each is asked for once greedily and once at
temperature 0.8; the reply must end by itself (finish_reason "stop"), parse, and validate with
the `jsonschema` package. Needs `pip install jsonschema` (installed when missing).
"""
import argparse
import concurrent.futures
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

try:
    import jsonschema
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "jsonschema"])
    import jsonschema

WORDS = ["name", "age", "city", "tags", "score", "active", "note", "id", "color", "size", "owner", "items", "kind",
         "level", "title", "price", "count", "email", "valid", "meta"]


def random_schema(rng, depth=0):
    kind = rng.choice(["string", "string", "integer", "number", "boolean", "null", "enum", "array"]
                      + (["object"] if depth < 2 else []))
    if kind == "string":
        low = rng.choice([0, 0, 1, 2])
        return {"type": "string", "minLength": low, "maxLength": low + rng.randint(1, 12)}
    if kind in ("integer", "number", "boolean", "null"):
        return {"type": kind}
    if kind == "enum":
        pool = ["red", "green", "blue", "a \"quoted\" word", "ümlaut", 1, 2.5, -3, True, None, "x\\y"]
        return {"enum": rng.sample(pool, rng.randint(1, 4))}
    if kind == "array":
        low = rng.choice([0, 0, 1])
        return {"type": "array", "items": random_schema(rng, depth + 1), "minItems": low,
                "maxItems": low + rng.randint(1, 3)}
    return random_object(rng, depth + 1)


def random_object(rng, depth=0):
    names = rng.sample(WORDS, rng.randint(1, 4))
    properties = {name: random_schema(rng, depth) for name in names}
    required = [name for name in names if rng.random() < 0.7]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def post(base, path, body, timeout=300):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def generate(base, schema, sampled, seed):
    body = {"messages": [{"role": "system", "content": "Reply with JSON only."},
                         {"role": "user", "content": "Fill in this JSON schema with plausible values: " + json.dumps(schema)}],
            "max_tokens": 400, "temperature": 0.8 if sampled else 0, "seed": seed,
            "response_format": {"type": "json_schema", "json_schema": {"name": "check", "schema": schema, "strict": True}}}
    status, reply = post(base, "/chat/completions", body)
    if status != 200:
        return f"status {status}: {reply}"
    choice = reply["choices"][0]
    text = choice["message"]["content"]
    if choice["finish_reason"] != "stop":
        return f"finish_reason {choice['finish_reason']}: {text!r}"
    try:
        jsonschema.validate(json.loads(text), schema)
    except (ValueError, jsonschema.ValidationError) as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}: {text!r}"
    return None


def decode_ms_per_token(base, constrained, prompt):
    """Milliseconds between streamed tokens after the first, for one greedy request."""
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": 48, "temperature": 0, "stream": True}
    if constrained:
        body["response_format"] = {"type": "json_object"}
    request = urllib.request.Request(base + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    times = []
    with urllib.request.urlopen(request, timeout=300) as response:
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("data: {") and '"content":"' in line.replace(" ", "") and '"content":""' not in line:
                times.append(time.perf_counter())
    if len(times) < 3:
        return None
    return (times[-1] - times[0]) / (len(times) - 1) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--schemas", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--workers", type=int, default=2, help="concurrent requests (at most the server's slots)")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    rng = random.Random(args.seed)
    schemas = [random_object(rng) for _ in range(args.schemas)]
    jobs = [(index, schema, sampled) for index, schema in enumerate(schemas) for sampled in (False, True)]
    failures = []
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        results = pool.map(lambda job: (job, generate(base, job[1], job[2], args.seed + job[0])), jobs)
        for (index, schema, sampled), failure in results:
            if failure:
                failures.append(f"schema {index} ({'sampled' if sampled else 'greedy'}): {failure}\n  {json.dumps(schema)}")
    print(f"structured output: {len(jobs) - len(failures)}/{len(jobs)} generations parse and validate "
          f"({args.schemas} schemas, seed {args.seed}, greedy and sampled, {time.perf_counter() - start:.0f} s)")
    for failure in failures[:10]:
        print("FAIL", failure)

    bad = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}}
    status, reply = post(base, "/chat/completions", {"messages": [{"role": "user", "content": "hi"}],
                         "response_format": {"type": "json_schema", "json_schema": {"name": "b", "schema": bad}}})
    refused = status == 400 and reply["error"]["param"] == "response_format" and "'pattern'" in reply["error"]["message"]
    print(f"{'ok' if refused else 'FAIL'}: an unsupported keyword is a 400 naming it ({reply['error']['message'] if status == 400 else status})")

    prompts = ["Describe a cat as JSON.", "Give the weather in Paris as JSON.", "List two colors as JSON.",
               "Describe a book as JSON.", "Give a user profile as JSON."]
    free, constrained = [], []
    for _ in range(2):
        for prompt in prompts:
            free.append(decode_ms_per_token(base, False, prompt))
            constrained.append(decode_ms_per_token(base, True, prompt))
    free = [v for v in free if v]
    constrained = [v for v in constrained if v]
    if free and constrained:
        a, b = statistics.median(free), statistics.median(constrained)
        print(f"decode ms/token, median of {len(free)} / {len(constrained)} streams: free {a:.2f}, "
              f"json_object-constrained {b:.2f} ({(b / a - 1) * 100:+.1f} %)")
    sys.exit(1 if failures or not refused else 0)


if __name__ == "__main__":
    main()
