#!/usr/bin/env python3
"""SentencePiece tokenizer goldens for Gemma 3 270M (GGUF `tokenizer.ggml.model = llama`).

Produces Tests/ClinferEngineTests/Golden/gemma3-tokenizer.json:
    {"model", "add_bos", "bos_id", "eos_id", "cases": [{"text", "special", "ids"}]}
    ids = llama.cpp tokenize(text.encode(), add_bos=True, special=<special>)

The cases cover what SentencePiece gets wrong most easily: whitespace runs (Gemma has
user-defined tokens for runs of spaces and newlines), leading spaces, newlines, digits, code,
CJK, emoji, accents, byte fallback for characters outside the vocabulary, a 500-character word,
control tokens with and without special parsing, and the empty string.

Rerun (after `make models-extra`):
    pip install llama-cpp-python
    python3 scripts/reference/gemma3_tokenizer_golden.py
"""
import json
import os

import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
GOLDEN = os.path.join(ROOT, "Tests", "ClinferEngineTests", "Golden", "gemma3-tokenizer.json")

CASES = [
    "The capital of France is",
    "Hello, world! How are you today?",
    " leading space",
    "   three leading spaces",
    "trailing space ",
    "a  b   c    d",
    "     ",
    " ",
    "\n",
    "line1\nline2\r\nline3\n\n\nend",
    "\t tab\tand\t\tmore",
    "12345 3.14159 1e-9 -42 2024",
    "don't we'll I'm THEY'RE",
    "def f(x):\n    return x**2  # square\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "café naïve résumé e\u0301",
    "日本語のテキスト 中文 한국어",
    "👋🏽 hi 🎉 family: 👨\u200d👩\u200d👧\u200d👦",
    "Привет, мир! Γειά σου مرحبا",
    "\u0004 control \u007f chars \U0001D54F",
    "https://example.com/path?q=1&r=two#frag",
    "supercalifragilistic" * 25,
    "",
]
SPECIAL = [
    "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<bos>text<eos> and <unused0>",
]


def main():
    llm = llama_cpp.Llama(MODEL, vocab_only=True, verbose=False)
    cases = []
    for special, texts in ((False, CASES + SPECIAL), (True, SPECIAL)):
        for text in texts:
            ids = [int(i) for i in llm.tokenize(text.encode("utf-8"), add_bos=True, special=special)]
            cases.append({"text": text, "special": special, "ids": ids})
    out = {"model": os.path.basename(MODEL), "add_bos": True, "bos_id": int(llm.token_bos()),
           "eos_id": int(llm.token_eos()), "cases": cases}
    with open(GOLDEN, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {GOLDEN}: {len(cases)} cases")


if __name__ == "__main__":
    main()
