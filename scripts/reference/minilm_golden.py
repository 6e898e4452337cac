#!/usr/bin/env python3
"""Tokenizer + embedding goldens for sentence-transformers all-MiniLM-L6-v2.

Produces:
  Tests/ClinferEngineTests/Golden/minilm-tokenizer.json
      {"model", "max_length": 256, "cases": [{"text", "ids"}]}
      ids from tokenizers.Tokenizer.from_file(tokenizer.json) with [CLS]/[SEP],
      truncation to 256 and NO padding (the file itself ships with
      truncation=128 and fixed padding to 128; both are overridden here to match
      sentence_bert_config.json max_seq_length=256).
  Tests/ClinferEngineTests/Golden/minilm-embeddings.json
      {"model", "normalize", "texts", "embeddings": [[384 floats, 6 decimals]]}
      from SentenceTransformer(dir, device="cpu").encode(texts); normalization
      follows modules.json (a Normalize module => unit-length embeddings).

Rerun:
    pip install tokenizers sentence-transformers torch
    python3 scripts/reference/minilm_golden.py
"""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_DIR = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
GOLDEN_DIR = os.path.join(ROOT, "Tests", "ClinferEngineTests", "Golden")
MAX_LEN = 256

LONG = " ".join(
    f"Sentence number {i} talks about rivers, mountains, and the weather in spring."
    for i in range(1, 31))  # well over 256 word pieces

TOKENIZER_CASES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! (really?) -- yes; 'quoted' \"double\" ...",
    "Café Déjà vu",
    "naïve résumé über",
    "日本語のテキスト",
    "中文 and English",
    "👋 hi 🎉",
    "",
    "MiXeD CaSe TeXt",
    "unbelievably antidisestablishmentarianism",
    "12345 3.14159 year 2024! 1,000,000",
    "https://example.com/path?q=1&r=two#frag",
    "email me at someone@example.org",
    "  extra   whitespace\t\tand\nnewlines  ",
    LONG,
]

EMBED_TEXTS = [
    "Hi.",
    "The cat sits on the mat.",
    "A man is playing a guitar on stage in front of a large crowd.",
    "Machine learning models can turn sentences into dense vectors that capture their meaning, "
    "which makes semantic search, clustering and deduplication cheap.",
    "Paris is the capital of France, and it is famous for the Eiffel Tower, its museums, "
    "its cafés, and the river Seine that runs through the middle of the city.",
    "In the early morning the harbor was quiet, the fishing boats rocking gently against "
    "their moorings while gulls circled overhead. The old lighthouse keeper walked the "
    "length of the pier, checking each rope and cleat as he had done for forty years, "
    "and somewhere beyond the breakwater a bell buoy rang, slow and steady.",
]


def main():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(MODEL_DIR, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LEN)
    cases = []
    for s in TOKENIZER_CASES:
        enc = tok.encode(s)
        cases.append({"text": s, "ids": enc.ids})
        print(len(enc.ids), enc.tokens[:12], repr(s[:40]))
    tk = {"model": "all-MiniLM-L6-v2", "max_length": MAX_LEN, "cases": cases}

    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    with open(os.path.join(MODEL_DIR, "modules.json")) as f:
        modules = json.load(f)
    normalize = any(m["type"].endswith("Normalize") for m in modules)
    model = SentenceTransformer(MODEL_DIR, device="cpu")
    print(model)
    emb = model.encode(EMBED_TEXTS, normalize_embeddings=normalize, convert_to_numpy=True)
    em = {"model": "all-MiniLM-L6-v2", "normalize": normalize, "pooling": "mean",
          "max_seq_length": model.max_seq_length, "texts": EMBED_TEXTS,
          "token_counts": [len(tok.encode(t).ids) for t in EMBED_TEXTS],
          "embeddings": [[round(float(v), 6) for v in row] for row in emb]}

    os.makedirs(GOLDEN_DIR, exist_ok=True)
    for name, obj, indent in (("minilm-tokenizer.json", tk, 1),
                              ("minilm-embeddings.json", em, None)):
        p = os.path.join(GOLDEN_DIR, name)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=indent,
                      separators=None if indent else (",", ":"))
            f.write("\n")
        print("wrote", p, os.path.getsize(p), "bytes")


if __name__ == "__main__":
    main()
