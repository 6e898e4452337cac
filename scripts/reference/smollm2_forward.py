#!/usr/bin/env python3
"""Float64 numpy reference forward pass for SmolLM2-135M-Instruct (GGUF, llama arch).

Produces Tests/ClinferEngineTests/Golden/smollm2-forward.json: teacher-forced
top-10 logits for every position of (ChatML prompt tokens + first 8 greedy
tokens of this reference), plus per-position argmax and top-1/top-2 margin.

Weights are read with the `gguf` package (GGUFReader + gguf.quants.dequantize)
and every op runs in float64: embedding lookup, RMSNorm, Q/K/V, RoPE
(llama.cpp "NORM" type = rotation of adjacent pairs (x[2i], x[2i+1]); the GGUF
converter permutes the HF Q/K weights so this matches HF's rotate_half), causal
GQA attention, output projection, SwiGLU FFN, final norm, tied output head.

Prompt tokens come from llama.cpp (llama-cpp-python, special tokens parsed, BOS
only if the GGUF says add_bos). Without llama_cpp the tokens already stored in
the golden file are reused.

Rerun:
    pip install gguf jinja2 numpy llama-cpp-python
    python3 scripts/reference/smollm2_forward.py            # write golden
    python3 scripts/reference/smollm2_forward.py --validate # + compare to llama.cpp
    python3 scripts/reference/smollm2_forward.py --validate --validate-f32
        # also compare to llama.cpp running a dequantized F32 copy of the GGUF
        # (written to a temp dir, ~540 MB); this isolates llama.cpp's Q8
        # activation quantization, which is the main source of the Q4_1 diffs.
"""
import argparse
import json
import os
import sys

import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
GOLDEN = os.path.join(ROOT, "Tests", "ClinferEngineTests", "Golden", "smollm2-forward.json")
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
N_GEN = 8
TOP_K = 10


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        self.reader = r
        arch = field(r, "general.architecture")
        assert arch == "llama", arch
        self.n_layer = int(field(r, "llama.block_count"))
        self.dim = int(field(r, "llama.embedding_length"))
        self.n_head = int(field(r, "llama.attention.head_count"))
        self.n_kv = int(field(r, "llama.attention.head_count_kv"))
        self.head_dim = self.dim // self.n_head
        self.rope_dim = int(field(r, "llama.rope.dimension_count", self.head_dim))
        self.rope_base = float(field(r, "llama.rope.freq_base", 10000.0))
        self.eps = float(field(r, "llama.attention.layer_norm_rms_epsilon"))
        self.add_bos = bool(field(r, "tokenizer.ggml.add_bos_token", False))
        self.bos_id = field(r, "tokenizer.ggml.bos_token_id")
        self.chat_template = field(r, "tokenizer.chat_template")
        self.w = {}
        for t in r.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type)
            self.w[t.name] = np.asarray(a, dtype=np.float64)
        # Tied output head: no output.weight in this file.
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])

    def rms(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos):
        # x: [T, H, head_dim]; NORM type: pairs (2i, 2i+1), theta = pos * base^(-2i/rope_dim)
        d = self.rope_dim
        inv = self.rope_base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
        ang = pos[:, None].astype(np.float64) * inv[None, :]  # [T, d/2]
        c = np.cos(ang)[:, None, :]
        s = np.sin(ang)[:, None, :]
        out = x.copy()
        x0 = x[..., 0:d:2]
        x1 = x[..., 1:d:2]
        out[..., 0:d:2] = x0 * c - x1 * s
        out[..., 1:d:2] = x0 * s + x1 * c
        return out

    def forward(self, tokens):
        """Full causal forward over `tokens`; returns logits [T, vocab] float64."""
        T = len(tokens)
        hd, H, KV = self.head_dim, self.n_head, self.n_kv
        group = H // KV
        pos = np.arange(T)
        x = self.w["token_embd.weight"][np.asarray(tokens)]  # [T, dim]
        mask = np.triu(np.full((T, T), -np.inf), k=1)
        scale = 1.0 / np.sqrt(hd)
        for l in range(self.n_layer):
            p = f"blk.{l}."
            h = self.rms(x, self.w[p + "attn_norm.weight"])
            q = (h @ self.w[p + "attn_q.weight"].T).reshape(T, H, hd)
            k = (h @ self.w[p + "attn_k.weight"].T).reshape(T, KV, hd)
            v = (h @ self.w[p + "attn_v.weight"].T).reshape(T, KV, hd)
            q = self.rope(q, pos)
            k = self.rope(k, pos)
            att = np.empty((T, H, hd))
            for hh in range(H):
                kv = hh // group
                s = (q[:, hh, :] @ k[:, kv, :].T) * scale + mask
                s = s - s.max(axis=-1, keepdims=True)
                e = np.exp(s)
                pr = e / e.sum(axis=-1, keepdims=True)
                att[:, hh, :] = pr @ v[:, kv, :]
            x = x + att.reshape(T, self.dim) @ self.w[p + "attn_output.weight"].T
            h = self.rms(x, self.w[p + "ffn_norm.weight"])
            g = h @ self.w[p + "ffn_gate.weight"].T
            u = h @ self.w[p + "ffn_up.weight"].T
            a = (g / (1.0 + np.exp(-g))) * u
            x = x + a @ self.w[p + "ffn_down.weight"].T
        x = self.rms(x, self.w["output_norm.weight"])
        return x @ self.out.T


def render_prompt(template, messages, add_generation_prompt=True):
    import jinja2
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                             loader=jinja2.BaseLoader())
    return env.from_string(template).render(messages=messages,
                                            add_generation_prompt=add_generation_prompt)


def prompt_tokens(model):
    text = render_prompt(model.chat_template, MESSAGES, True)
    try:
        import llama_cpp
    except ImportError:
        with open(GOLDEN) as f:
            g = json.load(f)
        print("llama_cpp not importable; reusing prompt tokens from golden", file=sys.stderr)
        return text, g["tokens"][: g["n_prompt"]]
    llm = llama_cpp.Llama(MODEL, vocab_only=True, verbose=False)
    toks = llm.tokenize(text.encode("utf-8"), add_bos=model.add_bos, special=True)
    return text, list(toks)


def write_f32_copy(reader, path):
    """Same GGUF with every tensor dequantized to F32 (same metadata)."""
    w = gguf.GGUFWriter(path, field(reader, "general.architecture"))
    for k, f in reader.fields.items():
        if k.startswith("GGUF.") or k == "general.architecture":
            continue
        if k == "general.file_type":
            w.add_uint32(k, 0)  # ALL_F32
            continue
        vt = f.types[0]
        if vt == gguf.GGUFValueType.ARRAY:
            w.add_array(k, f.contents())
        else:
            w.add_key_value(k, f.contents(), vt)
    for t in reader.tensors:
        w.add_tensor(t.name, np.asarray(gguf.quants.dequantize(t.data, t.tensor_type),
                                        dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def validate(tokens, ref_logits, threads=2, model_path=MODEL):
    import llama_cpp
    llm = llama_cpp.Llama(model_path, n_ctx=512, n_threads=threads, n_threads_batch=threads,
                          logits_all=True, verbose=False)
    llm.reset()
    llm.eval(tokens)
    cpp = np.array(llm.scores[: len(tokens)], dtype=np.float64)
    rows = []
    for i in range(len(tokens)):
        a, b = ref_logits[i], cpp[i]
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        rows.append({
            "pos": i,
            "cos": round(cos, 7),
            "max_abs_diff": round(float(np.max(np.abs(a - b))), 4),
            "argmax_ref": int(np.argmax(a)),
            "argmax_cpp": int(np.argmax(b)),
        })
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--validate", action="store_true", help="compare to llama.cpp logits")
    ap.add_argument("--validate-f32", action="store_true",
                    help="also compare to llama.cpp on a dequantized F32 copy")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    m = Model(MODEL)
    text, toks = prompt_tokens(m)
    n_prompt = len(toks)
    print(f"prompt ({n_prompt} tokens): {text!r}", file=sys.stderr)
    print(f"prompt ids: {toks}", file=sys.stderr)

    seq = list(toks)
    for _ in range(N_GEN):
        logits = m.forward(seq)
        seq.append(int(np.argmax(logits[-1])))
    logits = m.forward(seq)  # teacher-forced over prompt + generated

    positions, greedy, margin = [], [], []
    for i in range(len(seq)):
        row = logits[i]
        idx = np.argsort(-row, kind="stable")[:TOP_K]
        positions.append({"ids": [int(j) for j in idx],
                          "logits": [round(float(row[j]), 5) for j in idx]})
        greedy.append(int(idx[0]))
        margin.append(round(float(row[idx[0]] - row[idx[1]]), 5))

    out = {
        "model": os.path.basename(MODEL),
        "tokens": seq,
        "n_prompt": n_prompt,
        "top_k": TOP_K,
        "positions": positions,
        "greedy": greedy,
        "top2_margin": margin,
    }
    if not args.no_write:
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {GOLDEN}", file=sys.stderr)
    print("generated ids:", seq[n_prompt:], file=sys.stderr)
    print("margins:", margin, file=sys.stderr)

    if args.validate:
        rows = validate(seq, logits, args.threads)
        for r in rows:
            print(json.dumps(r))
        cos = [r["cos"] for r in rows]
        agree = sum(r["argmax_ref"] == r["argmax_cpp"] for r in rows)
        print(f"min cos {min(cos):.6f}, argmax agree {agree}/{len(rows)}, "
              f"max abs diff {max(r['max_abs_diff'] for r in rows):.4f}", file=sys.stderr)
    if args.validate_f32:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "f32.gguf")
            write_f32_copy(m.reader, path)
            rows = validate(seq, logits, args.threads, path)
        agree = sum(r["argmax_ref"] == r["argmax_cpp"] for r in rows)
        print(f"F32 copy: min cos {min(r['cos'] for r in rows):.6f}, argmax agree "
              f"{agree}/{len(rows)}, max abs diff "
              f"{max(r['max_abs_diff'] for r in rows):.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
