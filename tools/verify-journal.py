#!/usr/bin/env python3
"""Independent verifier of a cashpool journal export (JSON Lines, format 2): `verify-journal.py EXPORT`.

Written from docs/FORMATS.md ("The journal (format version 2)") and docs/currencies.csv alone, not from
cashpool's code; Python 3, standard library only. Per line: a format-2 entry with exactly the specified keys and
value forms; seq and prev_hash chaining; SHA-256 of the rebuilt bytes (header + canonical JSON, or the binary
transaction and statement bodies) against `hash`; unique ids; balanced transactions on opened accounts; each
benchmark fixing journaled once; the amendments' rules. It folds
the parts of "The state digest" (the nine, and `calendars` once a calendar day is held) and prints
{"ok": true, "entries", "head", "state_digest"} (exit 0) or {"ok": false, "first_bad_seq", "reason"} (exit 3);
usage errors exit 2.
"""
import argparse, csv, hashlib, json, re, sys
from datetime import date, datetime, timedelta
from pathlib import Path

CURRENCIES_CSV = Path(__file__).resolve().parent.parent / "docs" / "currencies.csv"
CURRENCIES = {}  # code -> minor units, loaded on first use
ZERO_HASH = "0" * 64
I128 = 1 << 127
KINDS = {0: "group_defined", 1: "account_opened", 2: "transaction", 3: "rates_imported", 4: "limits_set",
         5: "sweep_run", 6: "interest_settled", 7: "netting_cycle", 8: "statement_imported",
         9: "amendment", 10: "benchmarks_imported", 11: "calendar_imported"}  # by kind number
KIND_CODES = {name: code for code, name in KINDS.items()}
SERIES_RE = re.compile(r"[A-Z]([A-Z0-9-]{0,31})")  # a benchmark series id (not ending with "-")
PURPOSES = ["current_account", "pool_funding", "loan_repayment", "real_investment", "foreign_debt",
            "overseas_lending", "fx", "interest", "fee", "other"]
CLASSES = ["internal", "domestic", "offshore", "first_line", "cross_border", "second_line"]
PARTS = ["definition", "balances", "transactions", "rates", "limits", "sweeps", "interest", "netting", "statements"]
CALENDAR_ID_RE = re.compile(r"[A-Z][A-Z0-9_-]{0,15}")  # FORMATS.md, calendar_imported
CALENDAR_DAYS_MAX, DAY_NAME_BYTES_MAX = 100_000, 128

class Bad(Exception): pass  # a line fails a check; the message names the field and what is wrong

def need(ok, message):
    if not ok:
        raise Bad(message)

# ---- primitive encodings of the binary body ----
def leb128(n):
    out = b""
    while n > 0x7F:  # 7 bits a byte, least significant first, high bit on every byte but the last
        out, n = out + bytes([n & 0x7F | 0x80]), n >> 7
    return out + bytes([n])

def uvarint(n):
    need(0 <= n < 1 << 64, f"uvarint out of range: {n}")
    return leb128(n)

def svarint(n):
    need(-I128 <= n < I128, f"svarint out of range: {n}")
    return leb128(2 * n if n >= 0 else -2 * n - 1)  # zig-zag

def enc_str(s): return uvarint(len(s.encode())) + s.encode()
def enc_date(s): return uvarint(date.fromisoformat(s).toordinal())  # 0001-01-01 is day 1
def enc_dec(s): return (lambda m, scale: svarint(m) + bytes([scale]))(*parse_dec(s, "dec"))
def enc_opt(v, enc): return b"\x00" if v is None else b"\x01" + enc(v)

def parse_bank(s, path):  # a bank decimal: mantissa and the scale the bank wrote (not normalised)
    if not re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?", s) or len(s.partition(".")[2]) > 28 or s.startswith("-0") and not s.strip("-0."):
        raise Bad(f"{path}: {json.dumps(s)} is not a bank decimal")
    return int(s.replace(".", "")), len(s.partition(".")[2])

def canon(v):  # canonical JSON, exactly as FORMATS.md gives it in Python
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

# ---- value forms ----
AMOUNT_RE = re.compile(r"-?(0|[1-9][0-9]*)")
DEC_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{6})Z")

def parse_amount(s, path):
    if not AMOUNT_RE.fullmatch(s) or s == "-0" or not -I128 <= int(s) < I128:
        raise Bad(f"{path}: {json.dumps(s)} is not an amount (a 128-bit integer count of minor units)")
    return int(s)

def parse_dec(s, path):
    whole, _, frac = s.partition(".")
    if not DEC_RE.fullmatch(s) or s == "-0" or len(frac) > 28 or not -I128 <= int(whole + frac) < I128:
        raise Bad(f"{path}: {json.dumps(s)} is not a normalised decimal (scale 0 to 28, 128-bit mantissa)")
    return int(whole + frac), len(frac)

def parse_date(s, path):
    try:
        return date.fromisoformat(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", s)[0])  # type: ignore[index]
    except (TypeError, ValueError):
        raise Bad(f"{path}: {json.dumps(s)} is not a date YYYY-MM-DD") from None

def parse_time(s, path):  # recorded_at -> microseconds since 1970-01-01T00:00:00Z
    m = TIME_RE.fullmatch(s) if isinstance(s, str) else None
    try:
        d = datetime(*(int(x) for x in m.groups()))  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise Bad(f"{path}: {json.dumps(s)} is not RFC 3339 UTC with six fractional digits and Z") from None
    return (d - datetime(1970, 1, 1)) // timedelta(microseconds=1)

def parse_ccy(s, path): need(s in CURRENCIES, f"{path}: {json.dumps(s)} is not a currency code of docs/currencies.csv")
def parse_hash(s, path): need(re.fullmatch(r"[0-9a-f]{64}", s), f"{path}: {json.dumps(s)} is not 64 lower-case hex digits")

# ---- the bodies' shapes (FORMATS.md "Canonical JSON" and the export of a transaction) ----
# A schema is a type name, a frozenset (enumeration), [T] (array of T), {key: T} (object with exactly
# these keys, but those marked A(T)), ("?", T) (T or null), ("tuple", T, ...) (array of fixed length),
# ("map", K, T) (an object whose keys are of form K and values T) or, as the value of a key, A(T): a key added
# after entries without it were written, absent or T (never null).
def E(*names): return frozenset(names)  # an enumeration
def N(t): return ("?", t)  # T or null
def A(t): return ("absent", t)  # a key that may be absent; when present, T
def is_added(t): return isinstance(t, tuple) and t[0] == "absent"

FORMS = {"bank": parse_bank, "amount": parse_amount, "dec": parse_dec, "date": parse_date, "ccy": parse_ccy, "hash": parse_hash,
         "str": lambda s, path: s.encode()}  # an unpaired surrogate fails here
ZONE, RESIDENCE, FLOW = E("onshore", "ft", "offshore"), E("onshore", "offshore"), E("up", "down")
ACCOUNT = {"id": "str", "entity": "str", "zone": N(ZONE), "bank_bic": N("str"), "bank_id": N("str"),
           "kind": E("domestic-master", "international-master", "settlement", "fte", "ftn", "ftu", "nra", "osa",
                     "external", "system"), "currencies": ["ccy"], "overdrafts": [{"currency": "ccy", "limit": "amount"}]}
POOL_ROW = {"effective": "date", "owners_equity": "dec", "inflow_leverage": "dec", "inflow_parameter": "dec",
            "outflow_coefficient": "dec"}
GROUP = {
    "group": {"id": "str", "name": "str", "base_currency": "ccy"},
    "pool": {"id": "str", "host": "str", "domestic_master": "str", "international_master": "str",
             "netting_currency": "ccy", "limits": [POOL_ROW], "second_line_between_entities": A(E("same_name")),
             "quota_model": A(E("separate")), "calendars": A(("map", "ccy", ["str"])),
             "account_calendars": A(("map", "str", ["str"])), "non_business_value_dates": A(E("refuse")),
             "eligibility": {"onshore_cross_border_min": "amount", "onshore_revenue_min": "amount",
                             "offshore_revenue_min": "amount", "members_min": "int", "violation_free_years": "int"}},
    "entities": [{"id": "str", "name": "str", "residence": RESIDENCE, "net_assets": N("amount"),
                  "withholding_tax_rate": N("dec"), "facilitation_quota": [{"effective": "date", "usd_amount": "amount"}],
                  "withholding": A([{"effective": "date", "income_tax_rate": N("dec"), "vat_rate": N("dec"),
                                     "urban_maintenance_rate": N("dec"), "education_surcharge_rate": N("dec"),
                                     "local_education_surcharge_rate": N("dec")}])}],
    "accounts": [ACCOUNT],
    "sweeps": [{"account": "str", "currency": "ccy", "into": "str", "direction": E("up", "down", "both"),
                "method": {"kind": E("zero", "target", "threshold", "range"), "target": N("amount"),
                           "threshold": N("amount"), "min": N("amount"), "max": N("amount")},
                "min_transfer": N("amount"), "max_transfer": N("amount"), "rounding": N("amount"), "priority": "int",
                "partial_allowed": "bool", "roll": A(E("modified_following", "none"))}],
    "interest": [{"currency": "ccy", "day_count": E("ACT/360", "ACT/365F", "30/360", "30E/360"), "credit_rate": "dec",
                  "debit_rate": "dec", "tiers": [{"from": "amount", "credit_rate": "dec", "debit_rate": "dec"}],
                  "effective": A("date"), "entity": A("str"),
                  "benchmark": A({"series": "str", "benchmark_floor": N("dec"), "credit_floor": N("dec"), "debit_floor": N("dec"),
                                  "credit_cap": N("dec"), "debit_cap": N("dec"), "lookback_days": "int",
                                  "stale_after_days": "int"})}],
    "macro_prudential": [{"effective": "date", "parameter": "dec"}],
    "risk_factors": A([{"effective": "date", "short_term": "dec", "long_term": "dec", "category": "dec", "fx": "dec",
                        "leverage": "dec"}])}
TRANSACTION = {
    "id": "str", "value_date": "date", "purpose": E(*PURPOSES), "classification": E(*CLASSES), "reference": "str",
    "memo": "str", "operator": "str", "postings": [{"account": "str", "currency": "ccy", "amount": "amount"}],
    "rate": N({"base": "ccy", "quote": "ccy", "rate": "dec"}), "foreign_debt": N({"term_days": "int", "lender": "str"}),
    "pool_flow": N({"currency": "ccy", "amount": "amount"}), "repayment": N({"loan": "str", "currency": "ccy", "amount": "amount"}),
    "drawdown": N({"entity": "str", "currency": "ccy", "principal": "amount", "term_days": "int", "base_rate": "dec",
                   "usd_base_rate": N("dec")})}
BALANCE = N({"date": N("date"), "currency": "str", "amount": "bank"})  # a bank decimal, as the bank wrote it
FORMATS = ["mt940", "mt942", "camt052", "camt053", "camt054", "bai2"]
STATEMENT = {
    "format": E(*FORMATS), "statement_id": "str", "sequence": N("str"),
    "account_id": "str", "bic": N("str"), "currency": "str", "date": N("date"), "opening": BALANCE, "closing": BALANCE,
    "closing_available": BALANCE,
    "lines": [{"source_line": "int", "booking_date": N("date"), "value_date": N("date"), "amount": "bank",
               "currency": "str", "reversal": "bool", "end_to_end_id": N("str"), "uetr": N("str"),
               "owner_reference": N("str"), "bank_reference": N("str"), "type_code": "str", "narrative": "str"}]}
SCHEMAS = [  # by kind number, 0 to 8; then kinds 9, 10 and 11 below
    GROUP, ACCOUNT, TRANSACTION, {"rows": [{"date": "date", "currency": "ccy", "market": RESIDENCE, "rate": "dec"}]},
    {"effective": "date", "pool": N(POOL_ROW), "macro_prudential": N("dec")},
    {"date": "date", "sweeps": [{"account": "str", "into": "str", "reference": "str", "currency": "ccy",
                                 "amount": "amount", "direction": FLOW, "capped": "bool"}],
     "skipped": [{"account": "str", "currency": "ccy", "direction": FLOW, "wanted": "amount", "reason": "str",
                  "capped": "bool"}]},
    {"from": "date", "to": "date", "rounding": [{"currency": "ccy", "amount": "amount"}],
     "accruals": [{"entity": "str", "currency": "ccy", "interest": "amount", "withholding_tax": "amount",
                   "net": "amount", "residue": "dec",
                   "taxes": A({"income_tax": "amount", "vat": "amount", "urban_maintenance_tax": "amount",
                               "education_surcharge": "amount", "local_education_surcharge": "amount"})}],
     "carry": [{"currency": "ccy", "carry": "dec"}]},
    {"cycle": "str", "date": "date", "currency": "ccy", "mode": E("centre", "direct"), "gross": "amount",
     "positions": [{"entity": "str", "net": "amount"}], "settlements": [{"from": "str", "to": "str", "amount": "amount"}],
     "excluded": [{"invoice": "str", "reason": E("capital_item", "unknown_entity", "same_entity", "outside_window",
                                                  "duplicate_invoice", "already_settled")}],
     "invoices_netted": "int", "rates": [{"currency": "ccy", "rate": "dec"}], "invoices": ["str"]},
    {"source": "str", "account": N("str"), "key": ("tuple", "str", "str", "str"), "content_hash": "hash",
     "status": E("new", "conflict"), "statement": STATEMENT}]
BENCHMARKS = {"rows": [{"date": "date", "series": "str", "rate_percent": "dec"}]}
SCHEMAS = dict(enumerate(SCHEMAS)) | {9: {"effective": "date", "group": GROUP}, 10: BENCHMARKS}
SCHEMAS[11] = {"correction": "bool",
               "days": [{"calendar": "str", "date": "date", "kind": E("holiday", "working"), "name": "str"}]}

def check_keys(v, keys, path, added=()):
    need(isinstance(v, dict), f"{path}: expected an object")
    missing, unexpected = set(keys) - set(added) - set(v), set(v) - set(keys)
    if missing or unexpected:
        raise Bad(f"{path}: missing keys {sorted(missing)}, unexpected keys {sorted(unexpected)}")

def check(v, t, path):
    """Check value v against schema t; raise Bad naming the path of the first wrong value."""
    if isinstance(t, dict):
        check_keys(v, t, path, [k for k, sub in t.items() if is_added(sub)])
        for k, sub in t.items():
            if k in v:
                check(v[k], sub[1] if is_added(sub) else sub, f"{path}.{k}")
    elif isinstance(t, tuple) and t[0] == "map":
        need(isinstance(v, dict), f"{path}: expected an object")
        for k, x in v.items():
            check(k, t[1], f"{path} key")
            check(x, t[2], f"{path}.{k}")
    elif isinstance(t, list) or (isinstance(t, tuple) and t[0] == "tuple"):
        items = t * len(v) if isinstance(t, list) and isinstance(v, list) else list(t[1:])
        if not isinstance(v, list) or len(v) != len(items):
            raise Bad(f"{path}: expected an array" + ("" if isinstance(t, list) else f" of {len(items)}"))
        for i, (x, sub) in enumerate(zip(v, items)):
            check(x, sub, f"{path}[{i}]")
    elif isinstance(t, tuple):  # ("?", T)
        if v is not None:
            check(v, t[1], path)
    elif isinstance(t, frozenset):
        if not (isinstance(v, str) and v in t):
            raise Bad(f"{path}: {json.dumps(v)[:80]} is not one of {', '.join(sorted(t))}")
    elif t in ("int", "bool"):
        if not (type(v) is bool if t == "bool" else type(v) is int and v >= 0):
            raise Bad(f"{path}: {json.dumps(v)[:80]} is not {'true or false' if t == 'bool' else 'an unsigned integer'}")
    elif isinstance(v, str):
        FORMS[t](v, path)
    else:
        raise Bad(f"{path}: {json.dumps(v)[:80]} is not a string ({t})")

# ---- the binary bodies (transaction, kind 2; statement, kind 8) ----
def transaction_bytes(b):
    """The binary body of a transaction, from its checked export object."""
    ccy = str.encode
    out = [enc_str(b["id"]), enc_date(b["value_date"]),
           bytes([PURPOSES.index(b["purpose"]), CLASSES.index(b["classification"])]),
           enc_str(b["reference"]), enc_str(b["memo"]), enc_str(b["operator"]), uvarint(len(b["postings"]))]
    for p in b["postings"]:
        out += [enc_str(p["account"]), ccy(p["currency"]), svarint(int(p["amount"]))]
    out.append(enc_opt(b["rate"], lambda r: ccy(r["base"]) + ccy(r["quote"]) + enc_dec(r["rate"])))
    out.append(enc_opt(b["foreign_debt"], lambda f: uvarint(f["term_days"]) + enc_str(f["lender"])))
    out.append(enc_opt(b["pool_flow"], lambda f: ccy(f["currency"]) + svarint(int(f["amount"]))))
    out.append(enc_opt(b["drawdown"], lambda d: enc_str(d["entity"]) + ccy(d["currency"]) + svarint(int(d["principal"]))
                       + uvarint(d["term_days"]) + enc_dec(d["base_rate"]) + enc_opt(d["usd_base_rate"], enc_dec)))
    out.append(enc_opt(b["repayment"], lambda r: enc_str(r["loan"]) + ccy(r["currency"]) + svarint(int(r["amount"]))))
    return b"".join(out)

def statement_bytes(b):
    """The binary body of a statement, from its checked export object."""
    ods, bank = (lambda v: enc_opt(v, enc_str)), (lambda v: (lambda m, sc: svarint(m) + bytes([sc]))(*parse_bank(v, "amount")))
    bal = lambda v: enc_opt(v, lambda x: enc_opt(x["date"], enc_date) + enc_str(x["currency"]) + bank(x["amount"]))
    st = b["statement"]
    out = [enc_str(b["source"]), ods(b["account"]), *map(enc_str, b["key"]), bytes.fromhex(b["content_hash"]),
           bytes([["new", "conflict"].index(b["status"]), FORMATS.index(st["format"])]), enc_str(st["statement_id"]),
           ods(st["sequence"]), enc_str(st["account_id"]), ods(st["bic"]), enc_str(st["currency"]),
           enc_opt(st["date"], enc_date), bal(st["opening"]), bal(st["closing"]), bal(st["closing_available"]),
           uvarint(len(st["lines"]))]
    for l in st["lines"]:
        out += [uvarint(l["source_line"]), enc_opt(l["booking_date"], enc_date), enc_opt(l["value_date"], enc_date),
                bank(l["amount"]), enc_str(l["currency"]), bytes([l["reversal"]])]
        out += [ods(l[k]) for k in ("end_to_end_id", "uetr", "owner_reference", "bank_reference")]
        out += [enc_str(l["type_code"]), enc_str(l["narrative"])]
    return b"".join(out)

def check_transaction(b):
    """The body's own constraints from FORMATS.md (not the pool's rules)."""
    if not 1 <= len(b["id"].encode()) <= 64 or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in b["id"]):
        raise Bad(f"body.id: {json.dumps(b['id'])} is not 1 to 64 bytes without control characters")
    need(1 <= len(b["postings"]) <= 1000, f"body.postings: {len(b['postings'])} postings (1 to 1,000 allowed)")
    need(all(p["amount"] != "0" for p in b["postings"]), "body.postings: a posting's amount is never 0")
    sums = {}
    for p in b["postings"]:
        sums[p["currency"]] = sums.get(p["currency"], 0) + int(p["amount"])
    if any(sums.values()):
        raise Bad("body.postings: unbalanced: " + ", ".join(f"{c} sums to {s}" for c, s in sorted(sums.items()) if s))
    need(b["rate"] is None or parse_dec(b["rate"]["rate"], "")[0] > 0, "body.rate.rate: must be above 0")
    fd = b["foreign_debt"]
    if (fd is not None) != (b["purpose"] == "foreign_debt") or fd is not None and not (fd["term_days"] and fd["lender"]):
        raise Bad("body.foreign_debt: present exactly when purpose is foreign_debt, term_days above 0, lender not empty")

def check_group(b):
    """The definition's own constraints that the schema does not say (FORMATS.md, group_defined)."""
    for i, e in enumerate(b["entities"]):
        rows = e.get("withholding")
        if rows is not None:
            need(rows, f"body.entities[{i}].withholding: absent, not empty, when the entity has no rows")
            need(all(a["effective"] < b_["effective"] for a, b_ in zip(rows, rows[1:])),
                 f"body.entities[{i}].withholding: effective dates not strictly increasing")
        rates = [r[k] for r in rows or [] for k in r if k != "effective"] + [e["withholding_tax_rate"]]
        need(all(r is None or 0 <= parse_dec(r, "")[0] < 10 ** parse_dec(r, "")[1] for r in rates),
             f"body.entities[{i}]: a withholding rate is not a fraction in [0, 1)")
    members = {e["id"] for e in b["entities"]} - {b["pool"]["host"]}
    rules = set()
    for i, r in enumerate(b["interest"]):
        key = (r["currency"], r.get("entity"), r.get("effective"))
        need(key not in rules, f"body.interest[{i}]: a second rule for the same currency, entity and effective date")
        rules.add(key)
        need(r.get("entity") is None or r["entity"] in members, f"body.interest[{i}].entity: not a member of the pool")
        bm = r.get("benchmark")
        if bm is not None:
            need(SERIES_RE.fullmatch(bm["series"]) and not bm["series"].endswith("-"),
                 f"body.interest[{i}].benchmark.series: {json.dumps(bm['series'])} is not a series id")
            need(bm["lookback_days"] <= 31 and 1 <= bm["stale_after_days"] <= 400,
                 f"body.interest[{i}].benchmark: lookback_days or stale_after_days out of range")

def check_calendar_lists(b):
    """The definition's calendars (FORMATS.md, group_defined): present only when not empty, each list sorted and
    each calendar once, each a calendar id; an account's calendars name an account of the definition."""
    accounts = {a["id"] for a in b["accounts"]}
    for key in ("calendars", "account_calendars"):
        lists = b["pool"].get(key)
        if lists is None:
            continue
        need(lists, f"body.pool.{key}: absent, not empty, when the definition names no calendar")
        for owner, ids in lists.items():
            need(ids and all(a < b_ for a, b_ in zip(ids, ids[1:])), f"body.pool.{key}.{owner}: not sorted, each once")
            need(all(CALENDAR_ID_RE.fullmatch(i) for i in ids), f"body.pool.{key}.{owner}: not a calendar id")
            need(key == "calendars" or owner in accounts, f"body.pool.{key}.{owner}: not an account of the definition")

def check_interest(b):
    """An accrual's amounts add up (FORMATS.md, interest_settled)."""
    for i, a in enumerate(b["accruals"]):
        path = f"body.accruals[{i}]"
        need(int(a["net"]) + int(a["withholding_tax"]) == int(a["interest"]), f"{path}: net + withholding_tax is not interest")
        t = a.get("taxes")
        if t is not None:
            need(all(int(v) >= 0 for v in t.values()), f"{path}.taxes: a tax is negative")
            need(sum(map(int, t.values())) == int(a["withholding_tax"]), f"{path}.taxes: do not add up to withholding_tax")
            need(any(int(t[k]) for k in ("vat", "urban_maintenance_tax", "education_surcharge", "local_education_surcharge")),
                 f"{path}.taxes: present only when VAT or a surcharge is withheld")

# ---- reading lines, folding, the state digest ----
def no_duplicates(pairs):
    need(len({k for k, _ in pairs}) == len(pairs), "duplicate key in an object")
    return dict(pairs)

def no_minus_zero(literal):  # JSON numbers in bodies are unsigned; "-0" would pass as 0 (floats fail the schema)
    need(literal != "-0", "-0 is not a number the exporter writes")
    return int(literal)

def lines_digest(rows):
    """SHA-256 over the canonical JSON of each row, each followed by a line feed."""
    return hashlib.sha256(b"".join(canon(row) + b"\n" for row in rows)).hexdigest()

class State:
    def __init__(self):
        self.seq, self.head, self.accounts, self.tx_ids = 0, ZERO_HASH, set(), set()
        self.balances = {}  # (account, currency) -> {value date: net change}
        self.definition, self.sweeps, self.periods, self.netting, self.tx_hashes = [], [], [], [], hashlib.sha256()
        self.rates, self.pool, self.macro, self.flows, self.loans, self.carry, self.statements = {}, {}, {}, {}, {}, {}, {}
        self.benchmarks = {}  # (series, date) -> rate_percent
        self.separate, self.zones, self.moves = False, {}, []  # quota_model "separate"; account -> (entity, zone)
        # Amendments (FORMATS.md, amendment): the definition in force now, the amendments' digest lines, the
        # latest date booked, and when each account opens (from an amendment's date) or was closed.
        self.group, self.amendments, self.booked, self.opens, self.closed = None, [], "", {}, set()
        self.calendars = {}  # (calendar, date) -> [kind, name]

    def line(self, raw):  # check one export line (bytes); on success fold it and advance the head
        seq = self.seq + 1  # JSON white space includes the CR and LF of the line end
        try:
            obj = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates, parse_int=no_minus_zero)
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise Bad(f"not valid JSON: {e}") from None
        need(isinstance(obj, dict), "not a JSON object")
        need("version" in obj, 'a format-1 entry (no "version" key): format 1 is not supported by this verifier')
        if type(obj["version"]) is not int or obj["version"] != 2:
            raise Bad(f"version: {json.dumps(obj['version'])} is not 2, not a format-2 entry")
        check_keys(obj, ["version", "seq", "kind", "recorded_at", "prev_hash", "hash", "body"], "entry")
        if type(obj["seq"]) is not int or obj["seq"] != seq:
            raise Bad(f"seq: {json.dumps(obj['seq'])} where {seq} was expected")
        check(obj["kind"], E(*KIND_CODES), "kind")
        kind, recorded_at = KIND_CODES[obj["kind"]], parse_time(obj["recorded_at"], "recorded_at")
        check(obj["prev_hash"], "hash", "prev_hash")
        check(obj["hash"], "hash", "hash")
        if obj["prev_hash"] != self.head:
            raise Bad(f"prev_hash: {obj['prev_hash']} is not the previous entry's hash {self.head}")
        body = obj["body"]
        check(body, SCHEMAS[kind], "body")
        entry = (bytes([2, kind]) + seq.to_bytes(8, "little") + bytes.fromhex(self.head)
                 + recorded_at.to_bytes(8, "little", signed=True)
                 + (transaction_bytes(body) if kind == 2 else statement_bytes(body) if kind == 8 else canon(body)))
        need(len(entry) <= 64 * 1024 * 1024, f"the entry is {len(entry)} bytes, above 64 MiB")
        digest = hashlib.sha256(entry).hexdigest()
        need(digest == obj["hash"], f"hash: the entry's bytes hash to {digest}, not {obj['hash']}")
        need((kind == 0) == (seq == 1), "kind: group_defined is entry 1, and only entry 1")
        self.fold(KINDS[kind], body, seq, digest)
        self.seq, self.head = seq, digest

    def fold(self, kind, b, seq, h):  # a checked entry; the checks that need the state raise Bad
        if kind == "group_defined":
            check_group(b)
            self.group = b
            check_calendar_lists(b)
            self.definition.append(["group", b])
            self.separate = b["pool"].get("quota_model") == "separate"
            self.pool.update((r["effective"], r) for r in b["pool"]["limits"])
            self.macro.update((r["effective"], r["parameter"]) for r in b["macro_prudential"])
        elif kind == "account_opened":
            need(b["id"] not in self.accounts, f"body.id: account {json.dumps(b['id'])} is already open")
            self.accounts.add(b["id"])
            self.zones[b["id"]] = (b["entity"], b["zone"])
            self.definition.append(["account", b])
        elif kind == "transaction":
            self.fold_transaction(b, seq, h)
        elif kind == "rates_imported":
            self.rates.update(((r["currency"], r["market"], r["date"]), r["rate"]) for r in b["rows"])
        elif kind == "benchmarks_imported":
            for i, r in enumerate(b["rows"]):
                path, (mantissa, scale) = f"body.rows[{i}]", parse_dec(r["rate_percent"], "")
                need(SERIES_RE.fullmatch(r["series"]) and not r["series"].endswith("-"),
                     f"{path}.series: {json.dumps(r['series'])} is not a series id")
                need(abs(mantissa) < 100 * 10 ** scale and scale <= 8,
                     f"{path}.rate_percent: not above -100 and below 100 with at most 8 decimals")
                need((r["series"], r["date"]) not in self.benchmarks,
                     f"{path}: the {r['series']} fixing of {r['date']} is already in the journal")
                self.benchmarks[(r["series"], r["date"])] = r["rate_percent"]
        elif kind == "limits_set":
            if b["pool"] is None and b["macro_prudential"] is None:
                raise Bad("body: neither pool nor macro_prudential is set")
            if b["pool"] is not None:
                need(b["pool"]["effective"] == b["effective"], "body.pool.effective: differs from body.effective")
                self.pool[b["effective"]] = b["pool"]
            if b["macro_prudential"] is not None:
                self.macro[b["effective"]] = b["macro_prudential"]
        elif kind == "sweep_run":
            self.sweeps.append([b["date"], seq, h])
            self.booked = max(self.booked, b["date"])
        elif kind == "interest_settled":
            check_interest(b)
            self.periods.append(["period", b["from"], b["to"], seq, h])
            self.booked = max(self.booked, (date.fromisoformat(b["to"]) - timedelta(days=1)).isoformat())
            self.carry.update((c["currency"], c["carry"]) for c in b["carry"])
        elif kind == "netting_cycle":
            self.netting.append([b["cycle"], seq, h])
        elif kind == "amendment":
            self.fold_amendment(b)
        elif kind == "calendar_imported":
            self.fold_calendars(b)
        else:  # statement_imported: the first entry of each key is the statement
            self.statements.setdefault(tuple(b["key"]), [*b["key"], b["content_hash"], seq])

    def fold_amendment(self, b):
        """The whole definition in force from `effective` (FORMATS.md, amendment)."""
        old, new, effective = self.group, b["group"], b["effective"]
        check_group(new)
        check_calendar_lists(new)
        need(effective > self.booked, f"body.effective: {effective} is not after every date booked ({self.booked})")
        need(not self.amendments or effective >= self.amendments[-1][1],
             f"body.effective: before the previous amendment's {self.amendments[-1][1] if self.amendments else ''}")
        for key in ("id", "base_currency"):
            need(old["group"][key] == new["group"][key], f"body.group.group.{key}: cannot change")
        for key in ("id", "host", "limits", "quota_model"):
            need(old["pool"].get(key) == new["pool"].get(key), f"body.group.pool.{key}: cannot change")
        need(old["macro_prudential"] == new["macro_prudential"], "body.group.macro_prudential: cannot change")
        before = {a["id"]: a for a in old["accounts"]}
        for a in new["accounts"]:
            if a["id"] in before:
                need(before[a["id"]] == a, f"body.group.accounts: the terms of open account {a['id']} change")
            else:
                need(a["id"] not in self.accounts, f"body.group.accounts: account id {a['id']} is reused")
                self.opens[a["id"]] = effective
        listed = {a["id"] for a in new["accounts"]}
        for gone in before.keys() - listed:
            need(all(v == 0 for (acc, _), by_date in self.balances.items() if acc == gone for v in [sum(by_date.values())]),
                 f"body.group.accounts: account {gone} closes holding money")
            self.closed.add(gone)
        self.group = new
        self.amendments.append(["amendment", effective, new])

    def fold_transaction(self, b, seq, h):
        check_transaction(b)
        need(b["id"] not in self.tx_ids, f"body.id: transaction id {json.dumps(b['id'])} is already in the journal")
        for i, p in enumerate(b["postings"]):
            if p["account"] not in self.accounts:
                raise Bad(f"body.postings[{i}].account: {json.dumps(p['account'])} was never opened")
            need(p["account"] not in self.closed, f"body.postings[{i}].account: {p['account']} was closed by an amendment")
            need(b["value_date"] >= self.opens.get(p["account"], ""),
                 f"body.postings[{i}].account: {p['account']} opens only on {self.opens.get(p['account'])}")
        self.booked = max(self.booked, b["value_date"])
        vd, rp, dd = b["value_date"], b["repayment"], b["drawdown"]
        if rp is not None and rp["loan"] not in self.loans:
            raise Bad(f"body.repayment.loan: {json.dumps(rp['loan'])} is not an earlier drawdown")
        self.tx_ids.add(b["id"])
        for p in b["postings"]:
            by_date = self.balances.setdefault((p["account"], p["currency"]), {})
            by_date[vd] = by_date.get(vd, 0) + int(p["amount"])
        self.tx_hashes.update(bytes.fromhex(h))
        if b["pool_flow"] is not None:
            self.flows[vd] = self.flows.get(vd, 0) + int(b["pool_flow"]["amount"])
        if self.separate and b["purpose"] == "pool_funding" and b["pool_flow"] is not None:
            self.moves.append(self.pool_move(b, vd))
        if dd is not None:
            self.loans[b["id"]] = ["loan", b["id"], dd["entity"], dd["currency"], dd["principal"], vd,
                                   dd["term_days"], dd["base_rate"], dd["usd_base_rate"], []]
            if b["purpose"] == "overseas_lending":  # only an overseas loan says so (docs/FORMATS.md)
                self.loans[b["id"]].append("overseas_lending")
        if rp is not None:
            self.loans[rp["loan"]][9].append([vd, rp["amount"]])

    def fold_calendars(self, b):
        """A calendar import (FORMATS.md, calendar_imported): 1 to 100,000 days sorted by calendar and date, each
        once; a day held as given is never restated, and one held otherwise changes only in a correction."""
        days = b["days"]
        need(1 <= len(days) <= CALENDAR_DAYS_MAX, f"body.days: {len(days)} days (1 to {CALENDAR_DAYS_MAX} allowed)")
        keys = [(d["calendar"].encode(), d["date"]) for d in days]
        need(all(a < b_ for a, b_ in zip(keys, keys[1:])), "body.days: not sorted by calendar and date, each once")
        for i, d in enumerate(days):
            path = f"body.days[{i}]"
            need(CALENDAR_ID_RE.fullmatch(d["calendar"]), f"{path}.calendar: {json.dumps(d['calendar'])} is not a calendar id")
            need(len(d["name"].encode()) <= DAY_NAME_BYTES_MAX, f"{path}.name: longer than {DAY_NAME_BYTES_MAX} bytes")
            need(not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in d["name"]), f"{path}.name: a control character")
            held = self.calendars.get((d["calendar"], d["date"]))
            need(held != [d["kind"], d["name"]], f"{path}: restates the day held")
            need(held is None or b["correction"], f"{path}: changes a day held, and the import is not a correction")
        self.calendars.update(((d["calendar"], d["date"]), [d["kind"], d["name"]]) for d in days)

    def pool_move(self, b, vd):
        """A pool movement (quota_model "separate"): the entity on the other side of the border, the one
        currency of the onshore side and its net change there, and the recorded pool flow."""
        others, onshore = set(), {}
        for p in b["postings"]:
            entity, zone = self.zones[p["account"]]
            if zone == "onshore":
                onshore[p["currency"]] = onshore.get(p["currency"], 0) + int(p["amount"])
            elif zone in ("ft", "offshore"):
                others.add(entity)
        need(len(others) == 1 and len(onshore) == 1,
             "body.postings: a pool movement across the border is between the onshore side and one entity, in one currency")
        (currency, amount), = onshore.items()
        return ["move", vd, others.pop(), currency, str(amount), b["pool_flow"]["amount"]]

    def parts(self):
        """The nine parts' lines (str order is code-point order, which is UTF-8 byte order)."""
        balances = []
        for (account, currency), by_date in sorted(self.balances.items()):
            changes = [[d, str(c)] for d, c in sorted(by_date.items()) if c]
            if changes:
                balances.append([account, currency, str(sum(by_date.values())), changes])
        limits = [["pool", e, r["owners_equity"], r["inflow_leverage"], r["inflow_parameter"],
                   r["outflow_coefficient"]] for e, r in sorted(self.pool.items())]
        limits += [["macro_prudential", e, p] for e, p in sorted(self.macro.items())]
        limits += [["flow", d, str(s)] for d, s in sorted(self.flows.items()) if s]
        limits += self.moves
        limits += [loan for _, loan in sorted(self.loans.items())]
        interest = self.periods + [["carry", c, v] for c, v in sorted(self.carry.items()) if v != "0"]
        rates = [[*k, v] for k, v in sorted(self.rates.items())]
        rates += [["benchmark", series, d, v] for (series, d), v in sorted(self.benchmarks.items())]
        return [self.definition[:1] + self.amendments + self.definition[1:], balances, None, rates,
                limits, sorted(self.sweeps, key=lambda r: r[0]), interest, sorted(self.netting, key=lambda r: r[0]),
                [v for _, v in sorted(self.statements.items())]]

    def part_digests(self):  # `transactions` is the hash of the transaction entries' raw hashes, not of lines
        digests = {p: self.tx_hashes.hexdigest() if p == "transactions" else lines_digest(r)
                   for p, r in zip(PARTS, self.parts())}
        if self.calendars:  # the tenth part, once a calendar day is held
            digests["calendars"] = lines_digest([[c, d, *v] for (c, d), v in sorted(self.calendars.items())])
        return digests

    def state_digest(self):
        return lines_digest([["cashpool-state", 2, self.seq, self.head], *map(list, self.part_digests().items())])

def verify(lines):
    """Verify an iterable of export lines (bytes); return (result, exit code, state)."""
    if not CURRENCIES:
        with open(CURRENCIES_CSV, newline="", encoding="utf-8") as f:  # code,minor_units,numeric,name
            CURRENCIES.update((row["code"], int(row["minor_units"])) for row in csv.DictReader(f))
    state = State()
    for number, raw in enumerate(lines, 1):
        if not raw.strip(): continue  # blank lines are skipped (docs/FORMATS.md)
        try:
            state.line(raw)
        except (Bad, UnicodeEncodeError) as e:  # UnicodeEncodeError: a string with an unpaired surrogate
            return {"ok": False, "first_bad_seq": state.seq + 1, "reason": f"line {number}: {e}"}, 3, state
    return {"ok": True, "entries": state.seq, "head": state.head, "state_digest": state.state_digest()}, 0, state

def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a cashpool journal export (format 2).")
    parser.add_argument("export", help="the JSON Lines export (cashpool audit export --format jsonl)")
    for option in ("--checkpoint", "--proof"):
        parser.add_argument(option, metavar="FILE", help="not supported yet")
    args = parser.parse_args(argv)
    if args.checkpoint is not None or args.proof is not None:
        print("verify-journal.py: --checkpoint and --proof: not supported yet (see docs/FORMATS.md)", file=sys.stderr)
        return 2
    try:
        with open(args.export, "rb") as f:
            result, code, _ = verify(f)
    except OSError as e:
        print(f"verify-journal.py: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return code

if __name__ == "__main__":
    sys.exit(main())
