#!/usr/bin/env python3
"""PyTorch (sentence-transformers) CPU peer benchmark for all-MiniLM-L6-v2 embeddings.

Prints one JSON line per config (batch size 1, 8, 32 x sentence length ~16 and
~128 tokens incl. [CLS]/[SEP]):
  {"available": true, "batch": B, "tokens": T, "embeddings_per_s": ..., "threads": 2, ...}
embeddings_per_s = B / (median of 3 timed model.encode calls, after one warm-up).
Prints {"available": false} if torch / sentence_transformers are missing.

Rerun:
    pip install torch sentence-transformers
    python3 Benchmarks/minilm_torch_peer.py [MODEL_DIR] [--threads 2]
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIR = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
WORDS = ("the harbor was quiet while fishing boats rocked against their moorings and gulls "
         "circled overhead as an old keeper walked the pier checking every rope and cleat "
         "before the morning tide carried ships past a slow steady bell buoy").split()


def make_sentence(tok, target, seed):
    """Sentence whose tokenization (with [CLS]/[SEP]) has exactly `target` ids."""
    words, i = [], seed
    while True:
        words.append(WORDS[i % len(WORDS)])
        i += 1
        n = len(tok(" ".join(words))["input_ids"])
        if n >= target:
            return " ".join(words)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", nargs="?", default=DEFAULT_DIR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except Exception:
        print(json.dumps({"available": False}))
        return
    torch.set_num_threads(args.threads)
    model = SentenceTransformer(args.model_dir, device="cpu")
    tok = model.tokenizer
    for tokens in (16, 128):
        for batch in (1, 8, 32):
            texts = [make_sentence(tok, tokens, s) for s in range(batch)]

            def run():
                t0 = time.perf_counter()
                with torch.inference_mode():
                    model.encode(texts, batch_size=batch, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
                return time.perf_counter() - t0

            run()  # warm-up
            t = statistics.median(run() for _ in range(args.runs))
            print(json.dumps({"available": True, "batch": batch, "tokens": tokens,
                              "embeddings_per_s": round(batch / t, 1),
                              "ms_per_batch": round(t * 1000, 2),
                              "threads": args.threads, "torch": torch.__version__}),
                  flush=True)


if __name__ == "__main__":
    main()
