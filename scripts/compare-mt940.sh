#!/usr/bin/env bash
# MT940 parsing, side by side: cashpool's parser and Python's mt-940 package on
# the same file (the 100,000-line MT940 file of `cashpool bench recon`).
# Needs python3 with venv; installs mt-940 into a scratch virtualenv.
# Usage: scripts/compare-mt940.sh [WORKDIR]   (docs/PERFORMANCE.md has the figures)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cargo build --release -q
./target/release/cashpool bench recon --json --keep-files "$work" >"$work/bench.json"
if [[ ! -x "$work/venv/bin/python" ]]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q mt-940
fi
file="$work/bench-statements.sta"
ours=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recon"]["mt940_mb_per_second"])' "$work/bench.json")
theirs=$("$work/venv/bin/python" - "$file" <<'PY'
import os, sys, time
import mt940
path = sys.argv[1]
size = os.path.getsize(path)
best = None
for _ in range(3):
    t0 = time.perf_counter()
    n = sum(1 for _ in mt940.parse(path))
    elapsed = time.perf_counter() - t0
    best = elapsed if best is None else min(best, elapsed)
print(f"{size / 1e6 / best:.2f} {n}")
PY
)
read -r theirs_mb theirs_n <<<"$theirs"
echo "file: $file ($(stat -c %s "$file") bytes)"
echo "cashpool:       $ours MB/s (best of 3, in memory)"
echo "python mt-940:  $theirs_mb MB/s (best of 3, $theirs_n transactions)"
python3 -c "import sys; print(f'ratio: {float(sys.argv[1]) / float(sys.argv[2]):.0f}x')" "$ours" "$theirs_mb"
