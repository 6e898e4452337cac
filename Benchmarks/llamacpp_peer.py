#!/usr/bin/env python3
"""llama.cpp peer benchmark (via llama-cpp-python) for a GGUF model on the host CPU.

Prints one JSON line:
  {"available": true, "prefill_tok_s": ..., "decode_tok_s": ..., "prompt_tokens": 256,
   "decode_tokens": 64, "threads": N, "model": ...}
or {"available": false} when llama_cpp is not importable.
prefill = one eval of a 256-token prompt from an empty cache; decode = 64 greedy
single-token evals after that prompt (EOS ignored). Each is the median of 3 runs,
after one untimed warm-up run.

Rerun:
    pip install llama-cpp-python
    python3 Benchmarks/llamacpp_peer.py [MODEL.gguf] [--threads 2]
"""
import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")

TEXT = ("In the early morning the harbor was quiet, the fishing boats rocking gently "
        "against their moorings while gulls circled overhead. The old lighthouse keeper "
        "walked the length of the pier, checking each rope and cleat as he had done "
        "for forty years. Somewhere beyond the breakwater a bell buoy rang, slow and "
        "steady, marking the channel for the ships that would arrive with the tide. ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    try:
        import llama_cpp
        import numpy as np
    except Exception:  # ImportError, or the shared library failing to load
        print(json.dumps({"available": False}))
        return

    llm = llama_cpp.Llama(args.model, n_ctx=2048, n_batch=512, n_ubatch=512,
                          n_threads=args.threads, n_threads_batch=args.threads,
                          logits_all=False, verbose=False)
    prompt = []
    while len(prompt) < args.prompt_tokens:
        prompt += llm.tokenize(TEXT.encode(), add_bos=False, special=False)
    prompt = prompt[: args.prompt_tokens]

    def prefill():
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        return time.perf_counter() - t0

    n_vocab = llm.n_vocab()

    def last_logits():
        # logits_all=False: llama.cpp keeps only the last token's row.
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))

    def decode():
        prefill()
        tok = int(np.argmax(last_logits()))
        t0 = time.perf_counter()
        for _ in range(args.decode_tokens):
            llm.eval([tok])
            tok = int(np.argmax(last_logits()))
        return time.perf_counter() - t0

    prefill()  # warm-up
    decode()
    p = statistics.median(prefill() for _ in range(args.runs))
    d = statistics.median(decode() for _ in range(args.runs))
    print(json.dumps({
        "available": True,
        "prefill_tok_s": round(args.prompt_tokens / p, 1),
        "decode_tok_s": round(args.decode_tokens / d, 1),
        "prompt_tokens": args.prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "threads": args.threads,
        "model": os.path.basename(args.model),
        "llama_cpp_python": getattr(llama_cpp, "__version__", None),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
