#!/usr/bin/env python3
"""Float64 numpy reference forward pass for Gemma 3 270M (GGUF `gemma3`, Q4_K_M).

Produces Tests/ClinferEngineTests/Golden/gemma3-forward.json: for two prompts (150 tokens, and
700 tokens, past the 512-token sliding window) teacher-forced top-10 logits at every position,
per-position argmax and top-1/top-2 margin, plus the greedy continuation of "The capital of
France is" (16 tokens) and of the 150-token prompt (8 tokens).

Weights: the `gguf` package's dequantization (GGUFReader + gguf.quants.dequantize), every op in
float64. The graph, checked against llama.cpp's `gemma3` graph and Hugging Face's
Gemma3ForCausalLM:
  x = embedding · √dim
  per layer l: h = rms(x)·attn_norm; q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ;
    q, k = per-head rms(·)·attn_q_norm / attn_k_norm; NeoX RoPE (rotate halves) with base
    10 000 on sliding layers (l % 6 < 5, window 512: key j visible to query i iff i − 512 < j ≤ i)
    and rope.freq_base (1e6) on global layers (l % 6 = 5, causal);
    attention with scale 1/√head_dim (query_pre_attn_scalar = 256 = head_dim);
    x += rms(attn·Woᵀ)·post_attention_norm;
    h = rms(x)·ffn_norm; x += rms((gelu_tanh(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ)·post_ffw_norm
  logits = rms(x)·output_norm · embeddingᵀ (tied head; Gemma 3 has no final soft-cap)
Norm weights are used as stored: llama.cpp's converter already added Gemma's +1.

Rerun (after `make models-extra`):
    pip install gguf numpy llama-cpp-python
    python3 scripts/reference/gemma3_forward.py              # write the golden
    python3 scripts/reference/gemma3_forward.py --validate   # + compare with llama.cpp's logits
"""
import argparse
import json
import os
import sys

import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
GOLDEN = os.path.join(ROOT, "Tests", "ClinferEngineTests", "Golden", "gemma3-forward.json")
TOP_K = 10

PARAGRAPHS = [
    "The lighthouse stood at the edge of the northern cliffs for more than two hundred years. Its keeper, "
    "an old man named Tomas, climbed the spiral staircase every evening at dusk to light the great lamp. "
    "Ships passing in the night relied on its steady beam to avoid the jagged rocks below, and sailors "
    "across the region told stories of the keeper who never missed a single night.",
    "In the village below, children gathered at the harbor each morning to watch the fishing boats return. "
    "They counted the gulls circling above the masts and guessed which boat would carry the largest catch. "
    "The baker opened her shop before sunrise, and the smell of fresh bread drifted down the narrow streets "
    "toward the water.",
    "Scientists who study coastal erosion have measured how the cliffs retreat a few centimeters every year. "
    "Storms in winter accelerate the process, pulling loose stones into the sea. Engineers have proposed "
    "building a barrier of concrete blocks, but the villagers worry that it would change the character of "
    "the shore forever.",
    "Meanwhile, the town council debated a plan to convert the old customs house into a museum. The building, "
    "constructed in 1842, still holds ledgers that record every cargo unloaded at the port: salt, timber, "
    "wool, and barrels of wine from the south. Historians argue that these records tell the story of the "
    "region better than any textbook could.",
    "When the first electric lamp replaced the oil flame, Tomas kept the old brass lantern polished on a "
    "shelf in the watch room. He said that machines could fail, but a flame tended by a careful hand would "
    "always burn. Visitors who climbed the tower were often surprised by how warm and bright the small room "
    "felt, even in the middle of a storm.",
]


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


class Gemma3:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        assert field(r, "general.architecture") == "gemma3"
        self.n_layer = int(field(r, "gemma3.block_count"))
        self.dim = int(field(r, "gemma3.embedding_length"))
        self.n_head = int(field(r, "gemma3.attention.head_count"))
        self.n_kv = int(field(r, "gemma3.attention.head_count_kv"))
        self.head_dim = int(field(r, "gemma3.attention.key_length"))
        self.rope_global = float(field(r, "gemma3.rope.freq_base"))
        self.rope_local = 10000.0
        self.window = int(field(r, "gemma3.attention.sliding_window"))
        self.eps = float(field(r, "gemma3.attention.layer_norm_rms_epsilon"))
        self.w = {t.name: np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float64)
                  for t in r.tensors}
        self.embd = self.w["token_embd.weight"]

    def rms(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos, base):
        d = self.head_dim
        inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
        ang = pos[:, None].astype(np.float64) * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        x0, x1 = x[..., : d // 2], x[..., d // 2:]
        return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)

    def hidden(self, tokens):
        T, hd, H, KV = len(tokens), self.head_dim, self.n_head, self.n_kv
        group = H // KV
        pos = np.arange(T)
        x = self.embd[np.asarray(tokens)] * np.sqrt(self.dim)
        i, j = np.arange(T)[:, None], np.arange(T)[None, :]
        causal = np.where(j <= i, 0.0, -np.inf)
        local = np.where((j <= i) & (j > i - self.window), 0.0, -np.inf)
        scale = 1.0 / np.sqrt(hd)
        for l in range(self.n_layer):
            p = f"blk.{l}."
            sliding = l % 6 < 5
            base, mask = (self.rope_local, local) if sliding else (self.rope_global, causal)
            h = self.rms(x, self.w[p + "attn_norm.weight"])
            q = (h @ self.w[p + "attn_q.weight"].T).reshape(T, H, hd)
            k = (h @ self.w[p + "attn_k.weight"].T).reshape(T, KV, hd)
            v = (h @ self.w[p + "attn_v.weight"].T).reshape(T, KV, hd)
            q = self.rope(self.rms(q, self.w[p + "attn_q_norm.weight"]), pos, base)
            k = self.rope(self.rms(k, self.w[p + "attn_k_norm.weight"]), pos, base)
            att = np.empty((T, H, hd))
            for hh in range(H):
                kv = hh // group
                s = (q[:, hh, :] @ k[:, kv, :].T) * scale + mask
                s = s - s.max(axis=-1, keepdims=True)
                e = np.exp(s)
                att[:, hh, :] = (e / e.sum(axis=-1, keepdims=True)) @ v[:, kv, :]
            o = att.reshape(T, H * hd) @ self.w[p + "attn_output.weight"].T
            x = x + self.rms(o, self.w[p + "post_attention_norm.weight"])
            h = self.rms(x, self.w[p + "ffn_norm.weight"])
            g = h @ self.w[p + "ffn_gate.weight"].T
            u = h @ self.w[p + "ffn_up.weight"].T
            gelu = 0.5 * g * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (g + 0.044715 * g ** 3)))
            f = (gelu * u) @ self.w[p + "ffn_down.weight"].T
            x = x + self.rms(f, self.w[p + "post_ffw_norm.weight"])
        return self.rms(x, self.w["output_norm.weight"])

    def logits(self, tokens, rows=None):
        x = self.hidden(tokens)
        x = x if rows is None else x[rows]
        return np.concatenate([x[r:r + 64] @ self.embd.T for r in range(0, len(x), 64)])


def tokenizer():
    import llama_cpp
    return llama_cpp.Llama(MODEL, vocab_only=True, verbose=False)


def greedy(m, tokens, n):
    seq = list(tokens)
    for _ in range(n):
        seq.append(int(np.argmax(m.logits(seq, rows=[len(seq) - 1])[-1])))
    return seq[len(tokens):]


def summary(logits):
    positions, argmax, margin = [], [], []
    for row in logits:
        idx = np.argsort(-row, kind="stable")[:TOP_K]
        positions.append({"ids": [int(j) for j in idx], "logits": [round(float(row[j]), 5) for j in idx]})
        argmax.append(int(idx[0]))
        margin.append(round(float(row[idx[0]] - row[idx[1]]), 5))
    return positions, argmax, margin


def validate(tokens, ref, threads=2):
    import llama_cpp
    llm = llama_cpp.Llama(MODEL, n_ctx=1024, n_threads=threads, n_threads_batch=threads, logits_all=True,
                          verbose=False)
    llm.reset()
    llm.eval(tokens)
    cpp = np.array(llm.scores[: len(tokens)], dtype=np.float64)
    cos = [float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) for a, b in zip(ref, cpp)]
    agree = sum(int(np.argmax(a) == np.argmax(b)) for a, b in zip(ref, cpp))
    print(f"llama.cpp vs reference over {len(tokens)} tokens: min cos {min(cos):.6f}, argmax agree "
          f"{agree}/{len(tokens)}, max |Δ| {np.max(np.abs(ref - cpp)):.3f}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--validate", action="store_true", help="compare with llama.cpp's logits")
    args = ap.parse_args()
    m = Gemma3(MODEL)
    tok = tokenizer()
    text = " ".join(PARAGRAPHS * 4)
    ids = [int(t) for t in tok.tokenize(text.encode(), add_bos=True, special=False)]
    assert len(ids) >= 700, len(ids)
    out = {"model": os.path.basename(MODEL), "top_k": TOP_K, "prompts": []}
    for n in (150, 700):
        tokens = ids[:n]
        logits = m.logits(tokens)
        positions, argmax, margin = summary(logits)
        entry = {"tokens": tokens, "positions": positions, "argmax": argmax, "top2_margin": margin}
        if n == 150:
            entry["greedy"] = greedy(m, tokens, 8)
        out["prompts"].append(entry)
        print(f"{n} tokens: argmax of the last {argmax[-1]}, margin {margin[-1]}", file=sys.stderr)
        if args.validate:
            validate(tokens, logits)
    france = [int(t) for t in tok.tokenize(b"The capital of France is", add_bos=True, special=False)]
    out["france"] = {"tokens": france, "greedy": greedy(m, france, 16)}
    print("France:", tok.detokenize(out["france"]["greedy"]).decode(errors="replace"), file=sys.stderr)
    with open(GOLDEN, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
