#!/usr/bin/env python3
"""The store of docs/PERFORMANCE.md, "Issue 14: open from a snapshot": writes DIR/tx-00.csv … tx-09.csv,
10 files of 100,000 transfers (ids B0000000 … B0999999) on the example group: receipts from the external
counterparty on each side of the border into six accounts in four currencies, and smaller payments
back out (none overdraws), over 20 value dates. Usage: snapshot-bench-gen.py DIR"""
import os
import sys

pairs = [("EXT-ONSHORE","SZ-OPS","CNY",2),("EXT-ONSHORE","SH-DMA","CNY",2),("EXT-OFFSHORE","HK-OPS","USD",2),
         ("EXT-OFFSHORE","SG-OPS","USD",2),("EXT-OFFSHORE","DE-OPS","EUR",2),("EXT-OFFSHORE","JP-OPS","JPY",0)]
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 0
for f in range(10):
    with open(os.path.join(out, f"tx-{f:02d}.csv"), "w") as fh:
        fh.write("id,value_date,from,to,currency,amount,purpose,reference,memo\n")
        for j in range(100_000):
            ext, acct, ccy, mu = pairs[n % len(pairs)]
            day = 2 + (f * 2 + (j * 2) // 100_000)
            minor = 10_000 + (n * 7919) % 5_000_000
            if (n // len(pairs)) % 3 == 2:
                src, dst, minor = acct, ext, minor // 4
            else:
                src, dst = ext, acct
            amt = f"{minor // 10**mu}.{minor % 10**mu:0{mu}d}" if mu else str(minor)
            fh.write(f"B{n:07d},2026-11-{day:02d},{src},{dst},{ccy},{amt},current_account,R{n},\n")
            n += 1
print(n)
