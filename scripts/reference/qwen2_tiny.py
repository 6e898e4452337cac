#!/usr/bin/env python3
"""A tiny synthetic Qwen2 GGUF (random weights) and its float64 reference forward pass.

Writes, under Tests/ClinferEngineTests/Golden/:
  qwen2-tiny.gguf           `qwen2` architecture: 2 layers, embedding 64, 4 heads over 2 KV heads
                            (head dim 16), feed-forward 96, vocabulary 256 (the byte-level alphabet,
                            pre-tokenizer `qwen2`), RoPE base 1e6; Q/K/V/O and FFN weights Q8_0,
                            Q/K/V biases, norms, embedding and a separate output head F32
  qwen2-tiny-forward.json   teacher-forced logits (all 256) at every position of 12 tokens

The reference is Qwen2 as llama.cpp computes it: RMSNorm, Q/K/V projections plus their biases,
NeoX RoPE (rotate halves; the converter does not permute Qwen2's Q/K), grouped-query causal
attention, SwiGLU, tied nothing. Weights come back through the `gguf` package's dequantization.

Rerun:
    pip install gguf numpy
    python3 scripts/reference/qwen2_tiny.py
"""
import json
import os

import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "Tests", "ClinferEngineTests", "Golden")
DIM, LAYERS, HEADS, KV, FFN, VOCAB, BASE, EPS = 64, 2, 4, 2, 96, 256, 1e6, 1e-6
HD = DIM // HEADS
TOKENS = [17, 200, 3, 3, 99, 145, 255, 0, 64, 128, 31, 7]


def byte_alphabet():
    """GPT-2's byte-to-character mapping: the 256 single-byte tokens of a byte-level vocabulary."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def main():
    rng = np.random.default_rng(2)
    Q8 = gguf.GGMLQuantizationType.Q8_0
    tensors = {}  # name -> (float32 array [rows, cols] or [n], quantized?)

    def add(name, shape, scale, quantize):
        tensors[name] = ((rng.standard_normal(shape) * scale).astype(np.float32), quantize)

    add("token_embd.weight", (VOCAB, DIM), 1.0, False)
    add("output.weight", (VOCAB, DIM), 0.2, False)
    tensors["output_norm.weight"] = ((1 + 0.1 * rng.standard_normal(DIM)).astype(np.float32), False)
    for l in range(LAYERS):
        p = f"blk.{l}."
        tensors[p + "attn_norm.weight"] = ((1 + 0.1 * rng.standard_normal(DIM)).astype(np.float32), False)
        tensors[p + "ffn_norm.weight"] = ((1 + 0.1 * rng.standard_normal(DIM)).astype(np.float32), False)
        add(p + "attn_q.weight", (HEADS * HD, DIM), 0.15, True)
        add(p + "attn_k.weight", (KV * HD, DIM), 0.15, True)
        add(p + "attn_v.weight", (KV * HD, DIM), 0.15, True)
        add(p + "attn_q.bias", (HEADS * HD,), 0.5, False)
        add(p + "attn_k.bias", (KV * HD,), 0.5, False)
        add(p + "attn_v.bias", (KV * HD,), 0.5, False)
        add(p + "attn_output.weight", (DIM, HEADS * HD), 0.15, True)
        add(p + "ffn_gate.weight", (FFN, DIM), 0.15, True)
        add(p + "ffn_up.weight", (FFN, DIM), 0.15, True)
        add(p + "ffn_down.weight", (DIM, FFN), 0.15, True)

    path = os.path.join(GOLDEN, "qwen2-tiny.gguf")
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_block_count(LAYERS)
    w.add_context_length(128)
    w.add_embedding_length(DIM)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV)
    w.add_rope_freq_base(BASE)
    w.add_layer_norm_rms_eps(EPS)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(byte_alphabet())
    w.add_token_merges(["Ġ t"])  # one rule (an empty list is not written); "Ġt" is not a token
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    weights = {}
    for name, (values, quantize) in tensors.items():
        if quantize:
            data = gguf.quants.quantize(values, Q8)
            w.add_tensor(name, data, raw_dtype=Q8)
            weights[name] = np.asarray(gguf.quants.dequantize(data, Q8), dtype=np.float64).reshape(values.shape)
        else:
            w.add_tensor(name, values)
            weights[name] = values.astype(np.float64)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    def rms(x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * g

    def rope(x, pos):
        inv = BASE ** (-np.arange(0, HD, 2, dtype=np.float64) / HD)
        ang = pos[:, None] * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., : HD // 2], x[..., HD // 2:]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=-1)

    T = len(TOKENS)
    pos = np.arange(T, dtype=np.float64)
    x = weights["token_embd.weight"][TOKENS]
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for l in range(LAYERS):
        p = f"blk.{l}."
        h = rms(x, weights[p + "attn_norm.weight"])
        q = (h @ weights[p + "attn_q.weight"].T + weights[p + "attn_q.bias"]).reshape(T, HEADS, HD)
        k = (h @ weights[p + "attn_k.weight"].T + weights[p + "attn_k.bias"]).reshape(T, KV, HD)
        v = (h @ weights[p + "attn_v.weight"].T + weights[p + "attn_v.bias"]).reshape(T, KV, HD)
        q, k = rope(q, pos), rope(k, pos)
        att = np.empty((T, HEADS, HD))
        for hh in range(HEADS):
            kv = hh // (HEADS // KV)
            s = q[:, hh] @ k[:, kv].T / np.sqrt(HD) + mask
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            att[:, hh] = (e / e.sum(axis=-1, keepdims=True)) @ v[:, kv]
        x = x + att.reshape(T, DIM) @ weights[p + "attn_output.weight"].T
        h = rms(x, weights[p + "ffn_norm.weight"])
        g, u = h @ weights[p + "ffn_gate.weight"].T, h @ weights[p + "ffn_up.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ weights[p + "ffn_down.weight"].T
    logits = rms(x, weights["output_norm.weight"]) @ weights["output.weight"].T
    with open(os.path.join(GOLDEN, "qwen2-tiny-forward.json"), "w") as f:
        json.dump({"tokens": TOKENS, "logits": [[round(float(v), 6) for v in row] for row in logits]}, f,
                  separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and qwen2-tiny-forward.json")


if __name__ == "__main__":
    main()
