#!/usr/bin/env python3
"""Tokenizer + chat-template goldens for SmolLM2-135M-Instruct (GGUF).

Produces:
  Tests/ClinferEngineTests/Golden/smollm2-tokenizer.json
      {"model", "add_bos", "bos_token", "eos_token", "cases": [{"text", "ids"}]}
      ids = llama.cpp tokenize(text.encode(), add_bos=False, special=True)
  Tests/ClinferEngineTests/Golden/smollm2-chat.json
      raw tokenizer.chat_template, bos/eos token strings, and for 3 message lists
      the jinja2 rendering (trim_blocks/lstrip_blocks, like HF apply_chat_template)
      with add_generation_prompt true and false, plus llama.cpp ids of each.

Rerun:
    pip install gguf jinja2 llama-cpp-python
    python3 scripts/reference/smollm2_tokenizer_golden.py
"""
import json
import os

import gguf
import jinja2
import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
GOLDEN_DIR = os.path.join(ROOT, "Tests", "ClinferEngineTests", "Golden")

LONG = ("The quick brown fox jumps over the lazy dog near the riverbank, while a "
        "flock of geese honks overhead. In 1987, researchers at the institute "
        "measured 3,214 samples; roughly 42.5% of them showed anomalies. \"Why?\" "
        "asked Dr. O'Neil -- nobody knew. Meanwhile, the city's mayor announced a "
        "new plan: plant 10,000 trees by 2030, expand bike lanes (approx. 120 km), "
        "and reduce emissions. Critics weren't convinced, but supporters said it's "
        "a start!")

CASES = [
    "Hello world",
    "Hello, world! How are you today?",
    "The capital of France is Paris.",
    " leading space",
    "trailing space ",
    "  two leading and two trailing  ",
    "a  b",
    "a   b    c",
    "   ",
    " ",
    "\n\n\t x",
    "line1\nline2\r\nline3",
    "\n",
    "tab\there",
    "12345",
    "3.14159",
    "year 2024!",
    "1234567890 0.5 1e-9 -42",
    "don't we'll I'm THEY'RE you've she'd it's",
    "Hello!!! ... ??? ;-) --- ***",
    "!@#$%^&*()_+-=[]{}|;':\",./<>?",
    "def f(x):\n    return x**2",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "café naïve résumé",
    "e\u0301 a\u0300 n\u0303 o\u0308",
    "日本語のテキスト",
    "中文",
    "한국어 텍스트",
    "👋🏽 hi 🎉",
    "family: 👨\u200d👩\u200d👧\u200d👦!",
    "Привет, мир!",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|><|endoftext|>",
    "text <|im_end|> more",
    "",
    "HELLO hello HeLLo",
    "https://example.com/path?q=1&r=two#frag",
    LONG,
]

CHATS = [
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Write a haiku about the sea."}],
    [{"role": "system", "content": "You are a concise assistant."},
     {"role": "user", "content": "What is 2+2?"},
     {"role": "assistant", "content": "4."},
     {"role": "user", "content": "And times 3?"}],
]


def field(r, key, default=None):
    f = r.fields.get(key)
    return default if f is None else f.contents()


def main():
    r = gguf.GGUFReader(MODEL)
    vocab = field(r, "tokenizer.ggml.tokens")
    bos_id = field(r, "tokenizer.ggml.bos_token_id")
    eos_id = field(r, "tokenizer.ggml.eos_token_id")
    add_bos_meta = field(r, "tokenizer.ggml.add_bos_token")
    template = field(r, "tokenizer.chat_template")

    llm = llama_cpp.Llama(MODEL, vocab_only=True, verbose=False)
    # Confirm llama.cpp's own add_bos behaviour agrees with the metadata.
    probe = llm.tokenize(b"hi", add_bos=True, special=True)
    add_bos_cpp = bool(probe and probe[0] == bos_id and llm.tokenize(b"hi", add_bos=False)[0] != bos_id)
    add_bos = bool(add_bos_meta) if add_bos_meta is not None else add_bos_cpp

    def tok(s):
        return [int(i) for i in llm.tokenize(s.encode("utf-8"), add_bos=False, special=True)]

    cases = [{"text": s, "ids": tok(s)} for s in CASES]
    for c in cases:  # sanity: detokenizes back to the input
        back = llm.detokenize(c["ids"], special=True).decode("utf-8", errors="replace")
        if back != c["text"]:
            print("roundtrip differs:", repr(c["text"]), "->", repr(back))
    tk = {"model": os.path.basename(MODEL), "add_bos": add_bos,
          "bos_token": vocab[bos_id], "eos_token": vocab[eos_id],
          "bos_id": int(bos_id), "eos_id": int(eos_id), "cases": cases}

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, loader=jinja2.BaseLoader())
    tmpl = env.from_string(template)
    chats = []
    for msgs in CHATS:
        row = {"messages": msgs}
        for gen in (True, False):
            text = tmpl.render(messages=msgs, add_generation_prompt=gen,
                               bos_token=vocab[bos_id], eos_token=vocab[eos_id])
            key = "gen" if gen else "nogen"
            row[f"rendered_{key}"] = text
            row[f"ids_{key}"] = tok(text)
        chats.append(row)
    chat = {"model": os.path.basename(MODEL), "chat_template": template,
            "bos_token": vocab[bos_id], "eos_token": vocab[eos_id], "add_bos": add_bos,
            "cases": chats}

    os.makedirs(GOLDEN_DIR, exist_ok=True)
    for name, obj in (("smollm2-tokenizer.json", tk), ("smollm2-chat.json", chat)):
        p = os.path.join(GOLDEN_DIR, name)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print("wrote", p, os.path.getsize(p), "bytes")
    print("add_bos metadata:", add_bos_meta, "llama.cpp probe:", add_bos_cpp)


if __name__ == "__main__":
    main()
