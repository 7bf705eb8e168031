#!/usr/bin/env bash
# Durable posting, side by side: cashpool (`cashpool bench post`) and a
# double-entry ledger in PostgreSQL (scripts/postgres-ledger.sql) driven by
# pgbench over several client connections, at equal durability: every
# acknowledged commit is fsynced (cashpool: one fdatasync of the journal per
# commit; PostgreSQL: fsync=on, synchronous_commit=on, the WAL flushed with
# fdatasync before the commit returns). Both batched and unbatched.
#
#   scripts/peer-postgres.sh [WORKDIR]       (after `cargo build --release`)
#
# Needs Debian's postgresql (apt-get install -y postgresql; initdb, pg_ctl and
# pgbench from `pg_config --bindir`). Starts a private cluster in
# WORKDIR/pgdata (as the `postgres` user when run as root), listening on a Unix
# socket in WORKDIR only, and stops it at the end.
#
# Environment: CASHPOOL (the binary, default target/release/cashpool, copied
# into WORKDIR), SECONDS_PER_RUN (each pgbench run, default 30), CLIENTS
# (default 8), PGPORT_PEER (the cluster's port number, part of the socket's
# name, default 54329), KEEP_CLUSTER (set: keep WORKDIR/pgdata, removed otherwise).
#
# Runs, in this order, on the same disk (WORKDIR and the bench's temp folder
# are both under /tmp unless TMPDIR says otherwise), each cashpool figure next to
# its PostgreSQL counterpart:
#   cashpool bench post --n 1000000 --json               batches of 8,000 (and post_single)
#   pgbench batch8000     post_transfers of 8,000 transfers per transaction, CLIENTS clients,
#                         every transfer EXT-OFFSHORE -> HK-OPS USD (the bench's workload)
#   pgbench batch8000spr  the same on disjoint accounts (client k among its own 1000/CLIENTS
#                         accounts), so that the clients' batches do not wait for each other
#   cashpool bench post --n 1000000 --batch 1000 --json  batches of 1,000
#   pgbench batch1000     post_transfers of 1,000 per transaction, CLIENTS clients, hot
#   pgbench single        1 client, one post_transfer per transaction: the latency of one
#                         acknowledged transfer (median from pgbench's per-transaction log)
#   cashpool bench post --n 8000 --json                  post_single right after it
#   cashpool bench post --n 20000 --batch 1 --clients CLIENTS   CLIENTS threads posting one at a time
#   pgbench hot           CLIENTS clients, one post_transfer per transaction, EXT-OFFSHORE -> HK-OPS
#   pgbench spread        CLIENTS clients, one post_transfer per transaction, between 1,000 funded
#                         accounts chosen at random (the best case for PostgreSQL's group commit)
#   the checks: every currency sums to zero, every balance equals its postings,
#               every transaction has two balanced legs
#   cashpool bench post --n 1000000 --json again, the cluster stopped
# The figures go to standard output and WORKDIR/figures.txt, the load average
# next to each and, since the virtual disk's fsync latency changes from minute
# to minute, the disk's append+fdatasync median next to each pgbench run (the
# cashpool bench prints its own).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/peer-postgres.XXXXXX)}"
seconds="${SECONDS_PER_RUN:-30}"
clients="${CLIENTS:-8}"
port="${PGPORT_PEER:-54329}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
chmod 755 "$work"

pgbin="$(pg_config --bindir 2>/dev/null || true)"
[[ -x "$pgbin/initdb" ]] || pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$pgbin/initdb" && -x "$pgbin/pgbench" ]] ||
    { echo "PostgreSQL not found (apt-get install -y postgresql)" >&2; exit 1; }
src="${CASHPOOL:-$repo/target/release/cashpool}"
if [[ ! -x "$src" ]]; then
    (cd "$repo" && cargo build --release -q)
fi
mkdir -p "$work/bin"
cp "$src" "$work/bin/cashpool"
cashpool="$work/bin/cashpool"

# PostgreSQL refuses to run as root: the cluster and its clients run as `postgres` then.
if [[ "$(id -u)" == 0 ]]; then
    as_pg=(runuser -u postgres --)
    pguser=postgres
else
    as_pg=()
    pguser="$(id -un)"
fi
pgdata="$work/pgdata"
sock="$work/sock"
out="$work/figures.txt"
: >"$out"
say() { echo "$*" | tee -a "$out"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# The disk's own fsync latency, as `cashpool bench` measures it (median of 100
# appends of 4 KiB, each followed by fdatasync), in the folder of the cluster.
fsync_probe() {
    python3 - "$work/fsync-probe" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
samples = []
for i in range(100):
    t0 = time.perf_counter()
    os.pwrite(fd, b"\x07" * 4096, i * 4096)
    os.fdatasync(fd)
    samples.append(time.perf_counter() - t0)
os.close(fd)
os.unlink(sys.argv[1])
samples.sort()
print(round(samples[50] * 1e6))
PY
}
psql_() { "${as_pg[@]}" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U "$pguser" -d ledger "$@"; }

say "peer-postgres: $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "cashpool $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?') (binary sha256 $(sha256sum "$cashpool" | cut -c1-16)), $("$pgbin/postgres" --version)"
say "workdir $work"

# --- cashpool ---------------------------------------------------------------------------------
cashpool_bench() {
    local label="$1"
    shift
    local before
    before="$(load)"
    "$cashpool" bench post --json "$@" >"$work/cashpool-$label.json"
    python3 - "$work/cashpool-$label.json" "$label" "$before" "$(load)" "$*" <<'PY' | tee -a "$out"
import json, sys
f = json.load(open(sys.argv[1]))
p, s = f["post"], f["post_single"]
print(f"cashpool {sys.argv[2]:<9} bench post {sys.argv[5]}: {p['transactions']} transactions in batches of {p['batch']} "
      f"from {p.get('clients', 1)} client(s): {p['transactions_per_second']:.0f} transactions/s ({p['seconds']:.2f} s, "
      f"{p.get('commits', '?')} durable commits, {p.get('transactions_per_commit', '?')} transactions each); "
      f"single transaction median {s['median_microseconds']} us, disk append+fdatasync median {s['fsync_median_microseconds']} us "
      f"({s['fsyncs_per_acknowledgement']} fsyncs), {1e6 / s['median_microseconds']:.0f} acknowledgements/s one at a time; "
      f"load before {sys.argv[3]}, after {sys.argv[4]}")
PY
}

# --- the PostgreSQL cluster -------------------------------------------------------------------
stop_cluster() {
    if [[ -f "$pgdata/postmaster.pid" ]]; then
        "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null || true
    fi
}
trap stop_cluster EXIT
stop_cluster
rm -rf "$pgdata" "$sock"
mkdir -p "$pgdata" "$sock" "$work/pglog"
[[ ${#as_pg[@]} -eq 0 ]] || chown postgres: "$pgdata" "$sock" "$work/pglog"
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U "$pguser" --auth=trust --no-instructions -E UTF8 --locale=C >"$work/initdb.log"
cat >>"$pgdata/postgresql.conf" <<EOF

# peer-postgres.sh: equal durability (every acknowledged commit flushed with fdatasync)
fsync = on
synchronous_commit = on
wal_sync_method = fdatasync
full_page_writes = on
commit_delay = 0
# a private cluster on a Unix socket
listen_addresses = ''
unix_socket_directories = '$sock'
port = $port
max_connections = 40
# sized for the machine, so that checkpoints and a small cache do not dominate
shared_buffers = 1GB
max_wal_size = 8GB
checkpoint_timeout = 30min
EOF
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$work/pglog/postgres.log" -w start >/dev/null
"${as_pg[@]}" "$pgbin/createdb" -h "$sock" -p "$port" -U "$pguser" ledger
cp "$repo/scripts/postgres-ledger.sql" "$work/postgres-ledger.sql"
chmod 644 "$work/postgres-ledger.sql"
psql_ -f "$work/postgres-ledger.sql"
settings=$(psql_ -At -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
    WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'max_wal_size')")
say "postgres settings: $settings"

# The accounts: the bench's two (HK-OPS USD, settlement; EXT-OFFSHORE USD, external)
# and 1,000 settlement accounts M0001..M1000 in USD, each funded with 1,000,000,000.00
# from EXT-OFFSHORE, so that random transfers of at most 10,000.00 never overdraw.
psql_ -o /dev/null <<'SQL'
INSERT INTO accounts (id, currency, external) VALUES ('EXT-OFFSHORE', 'USD', true), ('HK-OPS', 'USD', false);
INSERT INTO accounts (id, currency) SELECT 'M' || lpad(g::text, 4, '0'), 'USD' FROM generate_series(1, 1000) g;
SELECT post_transfers(array_agg('FUND-' || g ORDER BY g), array_agg('EXT-OFFSHORE'::text ORDER BY g),
                      array_agg('M' || lpad(g::text, 4, '0') ORDER BY g), array_agg('USD'::text ORDER BY g),
                      array_agg(100000000000::bigint ORDER BY g), DATE '2026-11-02')
    FROM generate_series(1, 1000) g;
SQL

# The rules, once: a duplicate writes nothing, a conflict, an overdraft and an
# unknown account are refused, an unbalanced transaction cannot commit.
check_refused() {
    local code="$1" sql="$2"
    if psql_ -c "$sql" 2>"$work/refused.err"; then
        echo "expected $code, but it was accepted: $sql" >&2
        exit 1
    fi
    grep -q "$code" "$work/refused.err" || { cat "$work/refused.err" >&2; exit 1; }
}
[[ "$(psql_ -At -c "SELECT post_transfer('R1', 'EXT-OFFSHORE', 'HK-OPS', 'USD', 500)")" == posted ]]
[[ "$(psql_ -At -c "SELECT post_transfer('R1', 'EXT-OFFSHORE', 'HK-OPS', 'USD', 500)")" == duplicate ]]
check_refused id_conflict "SELECT post_transfer('R1', 'EXT-OFFSHORE', 'HK-OPS', 'USD', 501)"
check_refused overdraft "SELECT post_transfer('R2', 'HK-OPS', 'EXT-OFFSHORE', 'USD', 501)"
check_refused unknown_account "SELECT post_transfer('R3', 'EXT-OFFSHORE', 'NOPE', 'USD', 1)"
check_refused unbalanced "BEGIN; INSERT INTO transactions (id, value_date, purpose) VALUES ('R4', current_date, 'x');
    INSERT INTO postings VALUES ('R4', 1, 'HK-OPS', 'USD', 5), ('R4', 2, 'M0001', 'USD', -4); COMMIT;"
check_refused overdraft "SELECT post_transfers(ARRAY['R5', 'R6'], ARRAY['EXT-OFFSHORE', 'HK-OPS'], ARRAY['HK-OPS', 'EXT-OFFSHORE'],
    ARRAY['USD', 'USD'], ARRAY[10, 1000]::bigint[])"
[[ "$(psql_ -At -c "SELECT count(*) FROM transactions WHERE id IN ('R5', 'R6')")" == 0 ]]
say "rules checked: duplicate (nothing written), id_conflict, overdraft, unknown_account, unbalanced, atomic batch"

# --- pgbench ----------------------------------------------------------------------------------
cat >"$work/hot.sql" <<'EOF'
\set id random(1, 9000000000000000000)
\set amount random(100, 1000000)
SELECT post_transfer('H' || :id, 'EXT-OFFSHORE', 'HK-OPS', 'USD', :amount, DATE '2026-11-02', 'current_account', 'INV-' || :id, '');
EOF
cat >"$work/spread.sql" <<'EOF'
\set id random(1, 9000000000000000000)
\set amount random(100, 1000000)
\set a random(1, 1000)
\set b (:a + random(0, 998)) % 1000 + 1
SELECT post_transfer('S' || :id, 'M' || lpad(:a::text, 4, '0'), 'M' || lpad(:b::text, 4, '0'), 'USD', :amount, DATE '2026-11-02', 'current_account', 'INV-' || :id, '');
EOF
cat >"$work/batch.sql" <<'EOF'
\set id random(1, 9000000000000000000)
SELECT post_transfers(array_agg('K' || :id || '-' || g ORDER BY g), array_fill('EXT-OFFSHORE'::text, ARRAY[:batch::int]),
                      array_fill('HK-OPS'::text, ARRAY[:batch::int]), array_fill('USD'::text, ARRAY[:batch::int]),
                      array_agg(100 + floor(random() * 999901)::bigint ORDER BY g), DATE '2026-11-02')
    FROM generate_series(1, :batch::int) g;
EOF
# Batches on disjoint accounts: client k moves money among its own 1000/CLIENTS accounts,
# so that batches of different clients do not wait for each other's row locks.
cat >"$work/batch-spread.sql" <<'EOF'
\set id random(1, 9000000000000000000)
\set base :client_id * :per + 1
SELECT post_transfers(array_agg('J' || :id || '-' || g ORDER BY g),
                      array_agg('M' || lpad((:base::int + g % :per::int)::text, 4, '0') ORDER BY g),
                      array_agg('M' || lpad((:base::int + (g + 1 + floor(random() * (:per::int - 1))::int) % :per::int)::text, 4, '0') ORDER BY g),
                      array_fill('USD'::text, ARRAY[:batch::int]),
                      array_agg(100 + floor(random() * 999901)::bigint ORDER BY g), DATE '2026-11-02')
    FROM generate_series(1, :batch::int) g;
EOF
chmod 644 "$work"/*.sql

# Nothing left for autovacuum or the checkpointer to do during the next run.
quiesce() {
    psql_ -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
}

# pgbench_run LABEL CLIENTS JOBS BATCH SCRIPT [pgbench options...]
pgbench_run() {
    local label="$1" c="$2" j="$3" batch="$4" script="$5"
    shift 5
    quiesce
    local before tx_before tx_after
    tx_before=$(psql_ -At -c 'SELECT count(*) FROM transactions')
    fsync_us=$(fsync_probe)
    before="$(load)"
    (cd "$work" && "${as_pg[@]}" "$pgbin/pgbench" -n -M prepared -h "$sock" -p "$port" -U "$pguser" \
        -c "$c" -j "$j" -T "$seconds" -D batch="$batch" -D per=$((1000 / clients)) -f "$script" "$@" ledger) >"$work/pgbench-$label.out" 2>&1 ||
        { cat "$work/pgbench-$label.out" >&2; exit 1; }
    local after
    after="$(load)"
    tx_after=$(psql_ -At -c 'SELECT count(*) FROM transactions')
    local tps lat failed
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/pgbench-$label.out")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/pgbench-$label.out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench-$label.out")
    say "$(printf 'postgres %-12s %2d clients, %5d transfer(s)/commit: %8.1f commits/s = %9.0f transfers/s, latency avg %s ms, %d transfers written, %s failed; disk append+fdatasync median %s us before the run; load before %s, after %s' \
        "$label" "$c" "$batch" "$tps" "$(awk -v t="$tps" -v b="$batch" 'BEGIN { print t * b }')" "$lat" \
        "$((tx_after - tx_before))" "${failed:-0}" "$fsync_us" "$before" "$after")"
}

# Interleaved, so that each PostgreSQL figure has its cashpool counterpart
# measured minutes apart, in the same state of the disk as far as possible.
quiesce
cashpool_bench b8000 --n 1000000
pgbench_run batch8000 "$clients" 2 8000 batch.sql
pgbench_run batch8000spr "$clients" 2 8000 batch-spread.sql
quiesce
cashpool_bench b1000 --n 1000000 --batch 1000
pgbench_run batch1000 "$clients" 2 1000 batch.sql
pgbench_run single 1 1 1 hot.sql -l --log-prefix="$work/pglog/lat"
median=$(cat "$work"/pglog/lat* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
fsync_after=$(fsync_probe)
say "postgres single       median latency of one acknowledged transfer: $median us ($(awk -v m="$median" 'BEGIN { printf "%.0f", 1e6 / m }') acknowledgements/s one at a time; disk append+fdatasync median $fsync_us before and $fsync_after us after the run: $(awk -v m="$median" -v a="$fsync_us" -v b="$fsync_after" 'BEGIN { printf "%.2f", 2 * m / (a + b) }') fsyncs)"
quiesce
cashpool_bench single --n 8000
cashpool_bench clients --n 20000 --batch 1 --clients "$clients"
pgbench_run hot "$clients" 2 1 hot.sql
pgbench_run spread "$clients" 2 1 spread.sql

# --- the checks -------------------------------------------------------------------------------
psql_ -At >"$work/checks.txt" <<'SQL'
SELECT 'currencies not summing to zero: ' || count(*) FROM (SELECT currency FROM accounts GROUP BY currency HAVING sum(balance) <> 0) x;
SELECT 'balances different from their postings: ' || count(*) FROM accounts a
    WHERE a.balance <> (SELECT coalesce(sum(amount), 0) FROM postings p WHERE p.account = a.id AND p.currency = a.currency);
SELECT 'transactions without two balanced legs: ' || count(*) FROM transactions t
    WHERE (SELECT count(*) FROM postings p WHERE p.tx_id = t.id) <> 2
       OR (SELECT sum(amount) FROM postings p WHERE p.tx_id = t.id) <> 0;
SELECT 'accounts below their overdraft: ' || count(*) FROM accounts WHERE NOT external AND balance < -overdraft;
SELECT 'transactions: ' || count(*) || ', postings: ' || (SELECT count(*) FROM postings) FROM transactions;
SELECT 'database size: ' || pg_size_pretty(pg_database_size('ledger'));
SQL
cat "$work/checks.txt" | tee -a "$out"
if grep -E ': [1-9]' "$work/checks.txt" | grep -qv -E '^(transactions|database)'; then
    echo "a check failed" >&2
    exit 1
fi
stop_cluster
if [[ -z "${KEEP_CLUSTER:-}" ]]; then
    rm -rf "$pgdata"
fi
cashpool_bench b8000-end --n 1000000
say "figures in $out"
