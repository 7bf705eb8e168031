-- A double-entry ledger in PostgreSQL, for the peer comparison of
-- scripts/peer-postgres.sh: the rules of a simple cashpool transfer, written
-- as a schema and PL/pgSQL functions.
--
--   accounts      one row per account and currency: the balance in minor
--                 units (bigint, as cashpool keeps integers of minor units),
--                 whether the account is external (unbounded) and its
--                 overdraft; a CHECK keeps every non-external balance at or
--                 above minus its overdraft.
--   transactions  one row per transaction; the id is the idempotency key.
--   postings      the legs; a trigger checks after every statement that
--                 inserts postings that each transaction it touches sums to
--                 zero in each currency and has at least two legs;
--                 transactions and postings are append-only. (A transaction
--                 row without any posting is not refused by the schema; the
--                 functions never write one.)
--
--   post_transfer(id, from, to, currency, amount [, value_date, purpose, reference, memo])
--       inserts the transaction and its two postings and moves both balances
--       in one database transaction. Returns 'posted', or 'duplicate' when the
--       id was posted before with the same content (nothing is written).
--       Raises (and so rolls back) with SQLSTATE
--         CP001 overdraft        a non-external account would go below minus its overdraft
--         CP002 id_conflict      the id was posted before with other content
--         CP003 unknown_account  the account does not hold that currency / does not exist
--         CP004 invalid          amount not positive, from = to
--   post_transfers(ids[], froms[], tos[], currencies[], amounts[] [, value_date])
--       the same rules for a batch, atomically (all or nothing, as a cashpool
--       file or atomic batch), set-based: a few statements for the whole
--       batch, every account row locked once (in one order, so concurrent
--       batches cannot deadlock) and updated once; the overdraft rule is
--       checked on the running balance in batch order. Returns the number
--       posted (duplicates excluded). A concurrent batch inserting the same
--       new id on other accounts makes one of the two fail (unique violation);
--       its retry then finds the duplicate.
--
-- Rows are locked in (id, currency) order in both functions: two concurrent
-- transfers A->B and B->A wait for each other instead of deadlocking.

SET client_min_messages = warning;
DROP FUNCTION IF EXISTS post_transfers(text[], text[], text[], text[], bigint[], date);
DROP FUNCTION IF EXISTS post_transfer(text, text, text, text, bigint, date, text, text, text);
DROP TABLE IF EXISTS postings, transactions, accounts CASCADE;

CREATE TABLE accounts (
    id        text    NOT NULL,
    currency  text    NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    external  boolean NOT NULL DEFAULT false,
    overdraft bigint  NOT NULL DEFAULT 0 CHECK (overdraft >= 0),
    balance   bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (id, currency),
    CONSTRAINT no_overdraft CHECK (external OR balance >= -overdraft)
);

CREATE TABLE transactions (
    id         text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    value_date date        NOT NULL,
    purpose    text        NOT NULL,
    reference  text        NOT NULL DEFAULT '',
    memo       text        NOT NULL DEFAULT '',
    operator   text        NOT NULL DEFAULT current_user,
    posted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE postings (
    tx_id    text     NOT NULL REFERENCES transactions (id),
    leg      smallint NOT NULL CHECK (leg >= 1),
    account  text     NOT NULL,
    currency text     NOT NULL,
    amount   bigint   NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (tx_id, leg),
    FOREIGN KEY (account, currency) REFERENCES accounts (id, currency)
);
CREATE INDEX postings_account ON postings (account, currency);

-- Double entry, checked at the end of every statement that inserts postings:
-- every transaction it touches must sum to zero in each currency and have at
-- least two postings, so a transaction's legs go in with one INSERT (as both
-- functions below do). One check per statement over its transition table, not
-- one per row: in a batch of 8,000 transfers a deferred per-row constraint
-- trigger added about 180 ms of 470 ms, this one too little to tell from the
-- run-to-run noise (about 30 ms).
CREATE OR REPLACE FUNCTION check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_bad text;
BEGIN
    SELECT x.tx_id INTO v_bad
        FROM (SELECT p.tx_id, sum(p.amount) AS total, count(*) AS legs
              FROM postings p WHERE p.tx_id IN (SELECT n.tx_id FROM new_postings n)
              GROUP BY p.tx_id, p.currency) x
        GROUP BY x.tx_id HAVING bool_or(x.total <> 0) OR sum(x.legs) < 2
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transaction % is unbalanced or has fewer than two postings', v_bad USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER postings_balanced AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION check_balanced();

-- Append-only: a posted transaction is never changed or removed.
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END $$;
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE OR REPLACE FUNCTION post_transfer(
    p_id text, p_from text, p_to text, p_currency text, p_amount bigint,
    p_value_date date DEFAULT current_date, p_purpose text DEFAULT 'current_account',
    p_reference text DEFAULT '', p_memo text DEFAULT ''
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_balance   bigint;
    v_external  boolean;
    v_overdraft bigint;
    v_same      boolean;
    v_acct      text;
    v_delta     bigint;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 OR p_from = p_to THEN
        RAISE EXCEPTION 'invalid transfer %', p_id USING ERRCODE = 'CP004';
    END IF;
    INSERT INTO transactions (id, value_date, purpose, reference, memo)
        VALUES (p_id, p_value_date, p_purpose, p_reference, p_memo)
        ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        -- Posted before: the same content is a duplicate, anything else a conflict.
        SELECT t.value_date = p_value_date AND t.purpose = p_purpose
               AND t.reference = p_reference AND t.memo = p_memo
               AND (SELECT array_agg(ARRAY[p.account, p.currency, p.amount::text] ORDER BY p.leg)
                    FROM postings p WHERE p.tx_id = t.id)
                   = ARRAY[ARRAY[p_from, p_currency, (-p_amount)::text], ARRAY[p_to, p_currency, p_amount::text]]
          INTO v_same FROM transactions t WHERE t.id = p_id;
        IF v_same THEN
            RETURN 'duplicate';
        END IF;
        RAISE EXCEPTION 'id_conflict: % was posted with other content', p_id USING ERRCODE = 'CP002';
    END IF;
    -- Both balances, in (id, currency) order.
    FOREACH v_acct IN ARRAY CASE WHEN p_from < p_to THEN ARRAY[p_from, p_to] ELSE ARRAY[p_to, p_from] END LOOP
        v_delta := CASE WHEN v_acct = p_from THEN -p_amount ELSE p_amount END;
        UPDATE accounts SET balance = balance + v_delta
            WHERE id = v_acct AND currency = p_currency
            RETURNING balance, external, overdraft INTO v_balance, v_external, v_overdraft;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown_account: % does not hold %', v_acct, p_currency USING ERRCODE = 'CP003';
        END IF;
        IF v_delta < 0 AND NOT v_external AND v_balance < -v_overdraft THEN
            RAISE EXCEPTION 'overdraft: % % would go to %', v_acct, p_currency, v_balance USING ERRCODE = 'CP001';
        END IF;
    END LOOP;
    INSERT INTO postings (tx_id, leg, account, currency, amount)
        VALUES (p_id, 1, p_from, p_currency, -p_amount), (p_id, 2, p_to, p_currency, p_amount);
    RETURN 'posted';
END $$;

CREATE OR REPLACE FUNCTION post_transfers(
    p_ids text[], p_from text[], p_to text[], p_currency text[], p_amount bigint[],
    p_value_date date DEFAULT current_date
) RETURNS integer LANGUAGE plpgsql AS $$
-- Set-based: the same rules as post_transfer applied to the whole batch with a
-- few statements, each account's balance updated once (a row updated once per
-- transfer inside one long transaction would grow a chain of row versions that
-- every later update walks). The overdraft rule is checked in batch order, on
-- the running balance at every debit, as post_transfer would one by one.
DECLARE
    v_bad  text;
    n_ids  text[];
    n_from text[];
    n_to   text[];
    n_ccy  text[];
    n_amt  bigint[];
BEGIN
    IF cardinality(p_ids) IS DISTINCT FROM cardinality(p_from)
       OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_to)
       OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_currency)
       OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_amount) THEN
        RAISE EXCEPTION 'post_transfers: arrays of different lengths' USING ERRCODE = 'CP004';
    END IF;
    SELECT b.id INTO v_bad FROM unnest(p_ids, p_from, p_to, p_amount) AS b (id, fr, t, amt)
        WHERE b.id IS NULL OR b.amt IS NULL OR b.amt <= 0 OR b.fr = b.t LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid transfer %', v_bad USING ERRCODE = 'CP004';
    END IF;
    -- The same id twice in the batch: a duplicate if the content is the same.
    SELECT b.id INTO v_bad FROM unnest(p_ids, p_from, p_to, p_currency, p_amount) AS b (id, fr, t, ccy, amt)
        GROUP BY b.id HAVING count(DISTINCT (b.fr, b.t, b.ccy, b.amt)) > 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'id_conflict: % twice in the batch with other content', v_bad USING ERRCODE = 'CP002';
    END IF;
    -- Every account row the batch touches, locked once, in (id, currency) order.
    PERFORM 1 FROM accounts a
        WHERE (a.id, a.currency) IN (SELECT x.acct, x.ccy FROM unnest(p_from, p_currency) AS x (acct, ccy)
                                     UNION SELECT y.acct, y.ccy FROM unnest(p_to, p_currency) AS y (acct, ccy))
        ORDER BY a.id, a.currency FOR UPDATE;
    SELECT b.fr || ' ' || b.ccy INTO v_bad
        FROM unnest(p_from, p_to, p_currency) AS b (fr, t, ccy)
        WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = b.fr AND a.currency = b.ccy)
           OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = b.t AND a.currency = b.ccy) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown_account: % (or its counterpart)', v_bad USING ERRCODE = 'CP003';
    END IF;
    -- Posted before (an earlier batch): the same content is a duplicate, anything else a conflict.
    SELECT b.id INTO v_bad
        FROM unnest(p_ids, p_from, p_to, p_currency, p_amount) AS b (id, fr, t, ccy, amt)
        JOIN transactions t ON t.id = b.id
        WHERE t.value_date <> p_value_date OR t.purpose <> 'current_account' OR t.reference <> '' OR t.memo <> ''
           OR (SELECT array_agg(ARRAY[p.account, p.currency, p.amount::text] ORDER BY p.leg)
               FROM postings p WHERE p.tx_id = t.id)
              IS DISTINCT FROM ARRAY[ARRAY[b.fr, b.ccy, (-b.amt)::text], ARRAY[b.t, b.ccy, b.amt::text]]
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'id_conflict: % was posted with other content', v_bad USING ERRCODE = 'CP002';
    END IF;
    -- What is left to post: the first occurrence of each id not posted before, in batch order.
    SELECT array_agg(b.id ORDER BY b.i), array_agg(b.fr ORDER BY b.i), array_agg(b.t ORDER BY b.i),
           array_agg(b.ccy ORDER BY b.i), array_agg(b.amt ORDER BY b.i)
        INTO n_ids, n_from, n_to, n_ccy, n_amt
        FROM (SELECT DISTINCT ON (u.id) u.*
              FROM unnest(p_ids, p_from, p_to, p_currency, p_amount) WITH ORDINALITY AS u (id, fr, t, ccy, amt, i)
              ORDER BY u.id, u.i) b
        WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = b.id);
    IF n_ids IS NULL THEN
        RETURN 0;
    END IF;
    -- Overdraft: the running balance of every non-external account, at each of its debits.
    WITH legs AS (
        SELECT l.i, l.fr AS account, l.ccy, -l.amt AS amount FROM unnest(n_from, n_ccy, n_amt) WITH ORDINALITY AS l (fr, ccy, amt, i)
        UNION ALL
        SELECT l.i, l.t, l.ccy, l.amt FROM unnest(n_to, n_ccy, n_amt) WITH ORDINALITY AS l (t, ccy, amt, i)
    ), running AS (
        SELECT account, ccy, amount, sum(amount) OVER (PARTITION BY account, ccy ORDER BY i) AS moved FROM legs
    )
    SELECT r.account || ' ' || r.ccy || ' would go to ' || (a.balance + r.moved) INTO v_bad
        FROM running r JOIN accounts a ON a.id = r.account AND a.currency = r.ccy
        WHERE r.amount < 0 AND NOT a.external AND a.balance + r.moved < -a.overdraft LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'overdraft: %', v_bad USING ERRCODE = 'CP001';
    END IF;
    INSERT INTO transactions (id, value_date, purpose)
        SELECT u.id, p_value_date, 'current_account' FROM unnest(n_ids) WITH ORDINALITY AS u (id, i) ORDER BY u.i;
    INSERT INTO postings (tx_id, leg, account, currency, amount)
        SELECT u.id, 1, u.fr, u.ccy, -u.amt FROM unnest(n_ids, n_from, n_ccy, n_amt) AS u (id, fr, ccy, amt)
        UNION ALL
        SELECT u.id, 2, u.t, u.ccy, u.amt FROM unnest(n_ids, n_to, n_ccy, n_amt) AS u (id, t, ccy, amt);
    UPDATE accounts a SET balance = a.balance + d.delta
        FROM (SELECT l.account, l.ccy, sum(l.amount) AS delta
              FROM (SELECT fr AS account, ccy, -amt AS amount FROM unnest(n_from, n_ccy, n_amt) AS x (fr, ccy, amt)
                    UNION ALL
                    SELECT t, ccy, amt FROM unnest(n_to, n_ccy, n_amt) AS y (t, ccy, amt)) l
              GROUP BY l.account, l.ccy) d
        WHERE a.id = d.account AND a.currency = d.ccy;
    RETURN cardinality(n_ids);
END $$;
