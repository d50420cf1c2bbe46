#!/usr/bin/python3
"""The driver scenario with psycopg 3.1 (libpq). Run with Debian's /usr/bin/python3.

psycopg 3 uses the extended protocol and prepares a statement on the server once it has run
prepare_threshold times (default 5); its pipeline mode sends many statements before reading
any result. Input and output: see driver_scenario.py.
"""

import time

import psycopg

from driver_scenario import Scenario, StepFailure, cancel_after, copy_rows, read_plan

plan = read_plan()
endpoint = plan["endpoint"]
sql = plan["sql"]
state = {}


def sqlstate_of(error):
    return getattr(error, "sqlstate", None)


def one(query, params=None):
    return state["conn"].execute(query, params).fetchone()


def connect():
    kwargs = dict(host=endpoint["host"], port=endpoint["port"], user=endpoint["user"], dbname=endpoint["database"],
                  sslmode=endpoint["sslmode"], application_name=plan["applicationName"],
                  connect_timeout=plan["connectTimeoutSeconds"], autocommit=True)
    if endpoint.get("password") is not None:
        kwargs["password"] = endpoint["password"]
    if endpoint.get("options"):
        kwargs["options"] = endpoint["options"]
    state["conn"] = psycopg.connect(**kwargs)
    return "psycopg %s, libpq %d, sslmode %s" % (psycopg.__version__, psycopg.pq.version(), endpoint["sslmode"])


def server_info():
    port, in_recovery, ssl = one(sql["serverInfo"])
    scenario.server = {"port": port, "inRecovery": in_recovery, "ssl": ssl}
    return "port %d, in recovery %s, ssl %s (driver: ssl_in_use %s)" % (port, in_recovery, ssl, state["conn"].pgconn.ssl_in_use)


def prepared():
    conn = state["conn"]
    n = plan["preparedExecutions"]
    threshold = conn.prepare_threshold
    for i in range(n):
        got = one("SELECT %s::int + 1", (i,))[0]
        if got != i + 1:
            raise StepFailure("execution %d returned %r" % (i, got))
    named = one("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1' AND NOT from_sql")[0]
    if named != 1:
        raise StepFailure("%d server-side statements after %d executions (prepare_threshold %s)" % (named, n, threshold))
    # Pipeline mode: every Parse/Bind/Execute goes out before any result is read.
    batch = 10
    with conn.pipeline():
        cursors = [conn.execute("SELECT %s::int * 2", (i,)) for i in range(batch)]
    got = [c.fetchone()[0] for c in cursors]
    if got != [i * 2 for i in range(batch)]:
        raise StepFailure("pipeline returned %r" % got)
    return "prepared on the server after prepare_threshold %s (%d executions); pipeline batch of %d" % (threshold, n, batch)


def transaction():
    conn = state["conn"]
    if plan["writable"]:
        with conn.transaction():
            conn.execute(sql["createTxTable"])
            conn.execute("INSERT INTO drivers_tx VALUES (1, %s)", ("psycopg3",))
            inside = one("SELECT note FROM drivers_tx WHERE id = 1")[0]
        after = one("SELECT note FROM drivers_tx WHERE id = 1")[0]
        if inside != "psycopg3" or after != "psycopg3":
            raise StepFailure("read back %r / %r" % (inside, after))
        return "conn.transaction(): BEGIN; CREATE TEMP TABLE; INSERT; SELECT; COMMIT; row read back after commit"
    conn.read_only = True
    try:
        with conn.transaction():
            read_only = one("SHOW transaction_read_only")[0]
            relations = one("SELECT count(*) FROM pg_catalog.pg_class")[0]
    finally:
        conn.read_only = None
    if read_only != "on" or relations <= 0:
        raise StepFailure("read-only transaction: transaction_read_only %s, %d relations" % (read_only, relations))
    return "read_only = True; conn.transaction(): BEGIN READ ONLY; SHOW; SELECT; COMMIT"


def cancel():
    conn = state["conn"]
    sent_at = cancel_after(plan["cancel"]["afterMs"] / 1000.0, conn.cancel)
    try:
        conn.execute(sql["sleep"])
        raise StepFailure("pg_sleep completed: the cancel did not arrive")
    except psycopg.errors.QueryCanceled as e:
        sent = sent_at()
        ms = round((time.monotonic() - sent) * 1000) if sent else -1
        if "user request" not in str(e):
            raise StepFailure("57014 but not from the cancel: %s" % str(e).strip(), "57014")
        if ms > plan["cancel"]["deadlineMs"]:
            raise StepFailure("cancelled, but only %d ms after conn.cancel()" % ms, "57014")
        time.sleep(plan["cancel"]["settleMs"] / 1000.0)  # see scenario-plan.ts
        return "conn.cancel(); 57014 after %d ms" % ms, ms


def big_result():
    rows = state["conn"].execute(sql["bigResult"]).fetchall()
    size = sum(len(r[0]) for r in rows)
    want = plan["bigResult"]
    if len(rows) != want["rows"] or size != want["rows"] * want["width"]:
        raise StepFailure("read %d rows, %d bytes" % (len(rows), size))
    return "%d rows, %d bytes" % (len(rows), size)


def copy():
    n = plan["copyRows"]
    cur = state["conn"].cursor()
    with cur.copy(sql["copyOut"]) as out:
        rows = list(out.rows())
    if len(rows) != n or rows[-1] != (str(n), "note-%d" % n):
        raise StepFailure("COPY TO STDOUT gave %d rows (last %r)" % (len(rows), rows[-1:] or None))
    if not plan["writable"]:
        return "cursor.copy() COPY TO STDOUT: %d rows" % n
    cur.execute(sql["createCopyTable"])
    with cur.copy(sql["copyIn"]) as into:
        for row in copy_rows(n):
            into.write_row(row)
    count, total = cur.execute(sql["copyInCheck"]).fetchone()
    if count != n or total != n * (n + 1) // 2:
        raise StepFailure("after COPY FROM STDIN: %d rows, sum %s" % (count, total))
    return "cursor.copy() COPY TO STDOUT: %d rows; COPY FROM STDIN: %d rows" % (n, n)


scenario = Scenario(plan, "psycopg3", sqlstate_of)
scenario.run({
    "connect": connect,
    "server-info": server_info,
    "prepared": prepared,
    "transaction": transaction,
    "cancel": cancel,
    "big-result": big_result,
    "copy": copy,
})
