#!/usr/bin/env python3
"""Golden dequantization of random GGUF blocks, by the `gguf` package (llama.cpp's reference).

Writes Tests/ClinferEngineTests/Golden/quant-blocks.json: for each format Clinfer reads
(Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), three blocks of random bytes whose fp16
fields (scales, mins) are set to finite values, and the float32 bit patterns `gguf.quants.
dequantize` gives for them. `GGUFDequantizationTests` writes the bytes into a GGUF file, reads
it back with `GGUFFile.floats(of:)` and requires every value bit-exact.

Rerun:
    pip install gguf numpy
    python3 scripts/reference/quant_blocks_golden.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

# Byte offsets of each block's fp16 fields (ggml's block structs).
HALF_OFFSETS = {
    "Q8_0": [0], "Q4_0": [0], "Q5_0": [0],
    "Q4_1": [0, 2], "Q5_1": [0, 2], "Q4_K": [0, 2], "Q5_K": [0, 2],
    "Q6_K": [208],
}
BLOCKS = 3


def main():
    rng = np.random.default_rng(20261130)
    out = {}
    for name, offsets in HALF_OFFSETS.items():
        qtype = T[name]
        elements, size = GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, size=BLOCKS * size, dtype=np.uint8)
        for block in range(BLOCKS):
            for offset in offsets:
                # Scales of either sign, 2^-12 … 2^-2, so products exercise fp32 rounding.
                value = np.float16(rng.uniform(2 ** -12, 2 ** -2) * rng.choice([-1, 1]))
                raw[block * size + offset: block * size + offset + 2] = np.frombuffer(value.tobytes(), np.uint8)
        values = dequantize(raw, qtype).astype(np.float32).reshape(-1)
        assert values.size == BLOCKS * elements and np.all(np.isfinite(values))
        out[name] = {
            "elements": int(values.size),
            "bytes": raw.tobytes().hex(),
            "bits": [int(b) for b in values.view(np.uint32)],
        }
    path = os.path.join(os.path.dirname(__file__), "../../Tests/ClinferEngineTests/Golden/quant-blocks.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}: {', '.join(out)}")


if __name__ == "__main__":
    main()
