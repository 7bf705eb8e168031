#!/usr/bin/env bash
# Replaying and balancing a 1,000,000-posting journal, side by side: cashpool on
# its own store, and `hledger balance` on the hledger export of the same journal.
#
#   scripts/peer-hledger.sh [WORKDIR]        (after `cargo build --release`)
#
# Builds a store of the example group (examples/lingang-group.toml) holding
# 500,000 two-posting transactions (1,000,000 postings: receipts from and
# payments to the external accounts on seven account-currencies, value-dated
# over 20 business days of November 2026), posted with `cashpool post` from one
# generated CSV file, then times, each in its own process with /usr/bin/time
# (wall time, CPU time, peak RSS):
#   cashpool audit replay --format json      the journal replayed, chain checked, state digest
#   cashpool balances --format json          opening the store folds the whole journal (chain
#                                            and every rule), then the balances are printed
#   cashpool audit export --format hledger   the hledger file (not part of the comparison)
#   hledger -f big.journal balance           hledger parsing the export and balancing it
# and checks that hledger's balances equal cashpool's (the documented
# `hledger ... balance --flat --no-total --layout bare -O csv` against
# `cashpool balances --format csv`, non-zero rows), which is timed too.
#
# Environment: CASHPOOL (the binary, default target/release/cashpool, copied
# into WORKDIR so that a rebuild during the run changes nothing), N (transactions,
# default 500000), HLEDGER (default hledger), REPEAT (runs of each timed
# replay, balances and hledger command, default 3: the figure is the fastest
# run's, every run is printed). The figures go to standard output
# and to WORKDIR/figures.txt; the load average is recorded next to each.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/peer-hledger.XXXXXX)}"
n="${N:-500000}"
hledger="${HLEDGER:-hledger}"
reps="${REPEAT:-3}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

command -v "$hledger" >/dev/null || { echo "hledger not found (apt-get install -y hledger)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install -y time)" >&2; exit 1; }
src="${CASHPOOL:-$repo/target/release/cashpool}"
if [[ ! -x "$src" ]]; then
    (cd "$repo" && cargo build --release -q)
fi
mkdir -p "$work/bin"
cp "$src" "$work/bin/cashpool"
cashpool="$work/bin/cashpool"
store="$work/store"
rm -rf "$store" "$work/big.csv" "$work/big.journal"
out="$work/figures.txt"
: >"$out"

say() { echo "$*" | tee -a "$out"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
# run NAME REPS OUTPUT CMD...: runs CMD REPS times, its standard output to
# OUTPUT; records each run's wall time, CPU time and peak RSS and keeps the
# fastest run's wall time and peak RSS as NAME_wall and NAME_rss.
run() {
    local name="$1" reps="$2" output="$3"
    shift 3
    local rep before wall rss user sys best_wall="" best_rss=""
    for ((rep = 1; rep <= reps; rep++)); do
        before="$(load)"
        /usr/bin/time -f '%e %M %U %S' -o "$work/$name.time" "$@" >"$output"
        read -r wall rss user sys <"$work/$name.time"
        say "$(printf '%-12s run %d/%d %7.2f s wall %7.2f s user %6.2f s sys  peak RSS %7.1f MiB  load before %s, after %s' \
            "$name" "$rep" "$reps" "$wall" "$user" "$sys" "$(mib "$rss")" "$before" "$(load)")"
        if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
            best_wall="$wall" best_rss="$rss"
        fi
    done
    eval "${name}_wall=$best_wall ${name}_rss=$best_rss"
}

say "peer-hledger: $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "cashpool $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?') (binary sha256 $(sha256sum "$cashpool" | cut -c1-16)), $("$hledger" --version)"
say "workdir $work"

# 500,000 rows: seven (external, account, currency) pairs in turn; every third
# round on a pair is a payment of half the receipt the account got just
# before, so no account goes below zero and the whole file posts.
awk -v n="$n" '
BEGIN {
    np = split("EXT-ONSHORE SH-DMA CNY 2|EXT-ONSHORE SZ-OPS CNY 2|EXT-OFFSHORE HK-OPS USD 2|EXT-OFFSHORE HK-OPS HKD 2|EXT-OFFSHORE SG-OPS SGD 2|EXT-OFFSHORE DE-OPS EUR 2|EXT-OFFSHORE JP-OPS JPY 0", pair, "|")
    split("02 03 04 05 06 09 10 11 12 13 16 17 18 19 20 23 24 25 26 27", day, " ")
    print "id,value_date,from,to,currency,amount,purpose,reference,memo"
    for (i = 0; i < n; i++) {
        split(pair[i % np + 1], f, " ")
        date = "2026-11-" day[int(i * 20 / n) + 1]
        units = (i * 2654435761 + i * i * 7) % 1000003 + 1000
        if (int(i / np) % 3 == 2) {
            units = int(last[i % np] / 2)
            from = f[2]; to = f[1]; ref = sprintf("PO-%07d", i); memo = "supplier payment"
        } else {
            last[i % np] = units
            from = f[1]; to = f[2]; ref = sprintf("INV-%07d", i); memo = "customer receipt"
        }
        amount = (f[4] == 0) ? sprintf("%d", units) : sprintf("%d.%02d", int(units / 100), units % 100)
        printf "P%07d,%s,%s,%s,%s,%s,current_account,%s,%s\n", i, date, from, to, f[3], amount, ref, memo
    }
}' >"$work/big.csv"
say "generated $work/big.csv: $n rows, $(stat -c %s "$work/big.csv") bytes"

export CASHPOOL_NOW=2026-11-27T18:00:00Z CASHPOOL_OPERATOR=peer-hledger NO_COLOR=1
"$cashpool" --data "$store" init --config "$repo/examples/lingang-group.toml" >"$work/init.json"
run post 1 "$work/post.json" "$cashpool" --data "$store" post "$work/big.csv" --report json
posted=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not r["rejected"]; print(r["posted"])' "$work/post.json")
say "posted $posted transactions in one file ($(awk -v a="$posted" -v b="$post_wall" 'BEGIN { printf "%d", a / b }') /s, one atomic file, durable)"

run replay "$reps" "$work/replay.json" "$cashpool" --data "$store" --read-only audit replay --format json
entries=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["matches_store"]; print(r["entries"])' "$work/replay.json")
run balances "$reps" "$work/balances.json" "$cashpool" --data "$store" --read-only balances --format json
run export 1 "$work/export.out" "$cashpool" --data "$store" --read-only audit export --format hledger --output "$work/big.journal"
txns=$(grep -c '^[0-9]' "$work/big.journal")
postings=$(grep -c '^    [^;]' "$work/big.journal")
say "journal: $entries entries, $txns transactions, $postings postings; hledger file $(stat -c %s "$work/big.journal") bytes"

run hledger "$reps" "$work/hledger-balance.txt" "$hledger" -f "$work/big.journal" balance

# The same balances? hledger's documented CSV form against cashpool's, non-zero rows.
run hledger_csv 1 "$work/hledger-balance.csv" "$hledger" -f "$work/big.journal" --strict balance --flat --no-total --layout bare -O csv
"$cashpool" --data "$store" --read-only balances --format csv >"$work/balances.csv"
python3 - "$work/hledger-balance.csv" "$work/balances.csv" <<'PY'
import csv, sys
from decimal import Decimal
theirs = {(r[0], r[1]): r[2] for r in list(csv.reader(open(sys.argv[1])))[1:]}
ours = {(r[0], r[1]): r[2] for r in list(csv.reader(open(sys.argv[2])))[1:] if Decimal(r[2]) != 0}
if theirs != ours:
    sys.exit(f"balances differ:\n hledger {sorted(theirs.items())}\n cashpool {sorted(ours.items())}")
print(f"hledger's balances equal cashpool's: {len(ours)} non-zero account-currency rows, amount strings included")
PY

say ""
say "fastest of $reps runs each; entries $entries, transactions $txns, postings $postings"
say "replay+digest:  cashpool audit replay   ${replay_wall} s, $(mib "$replay_rss") MiB"
say "replay+balance: cashpool balances       ${balances_wall} s, $(mib "$balances_rss") MiB"
say "hledger -f big.journal balance          ${hledger_wall} s, $(mib "$hledger_rss") MiB"
say "ratio hledger balance / cashpool balances:     time $(ratio "$hledger_wall" "$balances_wall")x, peak RSS $(ratio "$hledger_rss" "$balances_rss")x"
say "ratio hledger balance / cashpool audit replay: time $(ratio "$hledger_wall" "$replay_wall")x, peak RSS $(ratio "$hledger_rss" "$replay_rss")x"
say "figures in $out"
