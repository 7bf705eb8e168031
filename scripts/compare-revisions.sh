#!/usr/bin/env bash
# Measures two revisions of cashpool side by side on this machine: builds each
# (release) in a temporary worktree, then runs `cashpool bench all --json`
# alternately, ROUNDS times each, and prints the main figures of every run and
# their medians. Alternating spreads the machine's drift (disk fsync latency,
# other load) over both binaries.
#
#   scripts/compare-revisions.sh BEFORE [AFTER] [ROUNDS]
#   scripts/compare-revisions.sh 0942e73 HEAD 3
#
# Needs git, cargo and python3. Writes only under a temporary folder, which it
# removes (set KEEP=1 to keep the binaries and the JSON of every run).
set -euo pipefail
cd "$(dirname "$0")/.."

before=${1:?usage: scripts/compare-revisions.sh BEFORE [AFTER] [ROUNDS]}
after=${2:-HEAD}
rounds=${3:-2}
work=$(mktemp -d /tmp/cashpool-compare.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'git worktree remove --force "$work/src-before" 2>/dev/null; git worktree remove --force "$work/src-after" 2>/dev/null; rm -rf "$work"' EXIT

for side in before after; do
    rev=$([ "$side" = before ] && echo "$before" || echo "$after")
    git worktree add --detach "$work/src-$side" "$rev" >/dev/null
    echo "== building $side ($(git rev-parse --short "$rev"))" >&2
    (cd "$work/src-$side" && CARGO_TARGET_DIR="$work/target-$side" cargo build --release --quiet -p cashpool-cli)
    cp "$work/target-$side/release/cashpool" "$work/cashpool-$side"
done

for round in $(seq 1 "$rounds"); do
    for side in before after; do
        echo "== round $round: $side" >&2
        "$work/cashpool-$side" --data "$work/store-$side-$round" bench all --json >"$work/$side-$round.json"
        rm -rf "$work/store-$side-$round"
    done
done

python3 - "$work" "$rounds" <<'EOF'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
figures = [
    ("post, durable, batches of 8,000 (tx/s)", ("post", "transactions_per_second")),
    ("post, one at a time: median latency (µs)", ("post_single", "median_microseconds")),
    ("replay (entries/s)", ("replay", "replay_entries_per_second")),
    ("verify (entries/s)", ("replay", "verify_entries_per_second")),
    ("replay peak RSS (KiB)", ("replay", "peak_rss_kib")),
    ("sweep run (s)", ("sweep", "sweep_seconds")),
    ("interest settlement (s)", ("sweep", "interest_settle_seconds")),
    ("netting: net and settle (s)", ("net", "net_and_settle_seconds")),
    ("recon: MT940 parse (MB/s)", ("recon", "mt940_mb_per_second")),
    ("recon: camt.053 parse (MB/s)", ("recon", "camt053_mb_per_second")),
    ("recon: import of the statements (s)", ("recon", "import_seconds")),
    ("recon: reconcile 100,000 lines (s)", ("recon", "reconcile_seconds")),
]
runs = {side: [json.load(open(f"{work}/{side}-{r}.json")) for r in range(1, rounds + 1)] for side in ("before", "after")}
def get(run, path):
    for key in path:
        run = run[key]
    return run
print(f"| figure | before (each run) | after (each run) | median after / before |")
print("|---|---|---|---|")
for name, path in figures:
    b = [get(run, path) for run in runs["before"]]
    a = [get(run, path) for run in runs["after"]]
    ratio = statistics.median(a) / statistics.median(b)
    show = lambda xs: ", ".join(f"{x:,.0f}" if x >= 100 else f"{x:.3f}" for x in xs)
    print(f"| {name} | {show(b)} | {show(a)} | {ratio:.2f} |")
EOF
