#!/usr/bin/python3
"""The driver scenario with psycopg2 2.9 (libpq). Run with Debian's /usr/bin/python3.

psycopg2 binds parameters on the client and sends simple queries, so its prepared step uses
SQL PREPARE/EXECUTE. Input and output: see driver_scenario.py.
"""

import io
import time

import psycopg2
import psycopg2.extensions

from driver_scenario import Scenario, StepFailure, cancel_after, copy_rows, read_plan

plan = read_plan()
endpoint = plan["endpoint"]
sql = plan["sql"]
state = {}


def sqlstate_of(error):
    return getattr(error, "pgcode", None)


def one(query, params=None):
    with state["conn"].cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()


def connect():
    kwargs = dict(host=endpoint["host"], port=endpoint["port"], user=endpoint["user"], dbname=endpoint["database"],
                  sslmode=endpoint["sslmode"], application_name=plan["applicationName"],
                  connect_timeout=plan["connectTimeoutSeconds"])
    if endpoint.get("password") is not None:
        kwargs["password"] = endpoint["password"]
    if endpoint.get("options"):
        kwargs["options"] = endpoint["options"]
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True
    state["conn"] = conn
    return "psycopg2 %s, libpq %d, sslmode %s" % (psycopg2.__version__.split()[0], psycopg2.extensions.libpq_version(), endpoint["sslmode"])


def server_info():
    port, in_recovery, ssl = one(sql["serverInfo"])
    scenario.server = {"port": port, "inRecovery": in_recovery, "ssl": ssl}
    return "port %d, in recovery %s, ssl %s (driver: ssl_in_use %s)" % (port, in_recovery, ssl, state["conn"].info.ssl_in_use)


def prepared():
    n = plan["preparedExecutions"]
    with state["conn"].cursor() as cur:
        cur.execute("PREPARE drivers_prepared(int) AS SELECT $1 + 1")
        for i in range(n):
            cur.execute("EXECUTE drivers_prepared(%s)", (i,))
            got = cur.fetchone()[0]
            if got != i + 1:
                raise StepFailure("EXECUTE %d returned %r" % (i, got))
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'drivers_prepared'")
        if cur.fetchone()[0] != 1:
            raise StepFailure("pg_prepared_statements lacks drivers_prepared")
    return "client-side binding; SQL PREPARE then %d x EXECUTE" % n


def transaction():
    conn = state["conn"]
    # psycopg2 starts a transaction itself once autocommit is off; commit() ends it.
    conn.autocommit = False
    try:
        if plan["writable"]:
            with conn.cursor() as cur:
                cur.execute(sql["createTxTable"])
                cur.execute("INSERT INTO drivers_tx VALUES (1, %s)", ("psycopg2",))
                cur.execute("SELECT note FROM drivers_tx WHERE id = 1")
                inside = cur.fetchone()[0]
            conn.commit()
            after = one("SELECT note FROM drivers_tx WHERE id = 1")[0]
            if inside != "psycopg2" or after != "psycopg2":
                raise StepFailure("read back %r / %r" % (inside, after))
            return "implicit BEGIN; CREATE TEMP TABLE; INSERT; SELECT; commit(); row read back after commit"
        conn.readonly = True
        read_only = one("SHOW transaction_read_only")[0]
        relations = one("SELECT count(*) FROM pg_catalog.pg_class")[0]
        conn.commit()
        if read_only != "on" or relations <= 0:
            raise StepFailure("read-only transaction: transaction_read_only %s, %d relations" % (read_only, relations))
        return "readonly = True; implicit BEGIN; SHOW; SELECT; commit()"
    finally:
        # Back to autocommit for the next steps; on a broken connection, keep the first error.
        if not conn.closed:
            conn.rollback()
            conn.readonly = None
            conn.autocommit = True


def cancel():
    conn = state["conn"]
    sent_at = cancel_after(plan["cancel"]["afterMs"] / 1000.0, conn.cancel)
    try:
        with conn.cursor() as cur:
            cur.execute(sql["sleep"])
        raise StepFailure("pg_sleep completed: the cancel did not arrive")
    except psycopg2.errors.QueryCanceled as e:
        sent = sent_at()
        ms = round((time.monotonic() - sent) * 1000) if sent else -1
        if "user request" not in str(e):
            raise StepFailure("57014 but not from the cancel: %s" % str(e).strip(), "57014")
        if ms > plan["cancel"]["deadlineMs"]:
            raise StepFailure("cancelled, but only %d ms after conn.cancel()" % ms, "57014")
        time.sleep(plan["cancel"]["settleMs"] / 1000.0)  # see scenario-plan.ts
        return "conn.cancel(); 57014 after %d ms" % ms, ms


def big_result():
    with state["conn"].cursor() as cur:
        cur.execute(sql["bigResult"])
        rows = cur.fetchall()
    size = sum(len(r[0]) for r in rows)
    want = plan["bigResult"]
    if len(rows) != want["rows"] or size != want["rows"] * want["width"]:
        raise StepFailure("read %d rows, %d bytes" % (len(rows), size))
    return "%d rows, %d bytes" % (len(rows), size)


def copy():
    n = plan["copyRows"]
    out = io.StringIO()
    with state["conn"].cursor() as cur:
        cur.copy_expert(sql["copyOut"], out)
        lines = out.getvalue().splitlines()
        if len(lines) != n or lines[-1] != "%d\tnote-%d" % (n, n):
            raise StepFailure("COPY TO STDOUT gave %d rows" % len(lines))
        if not plan["writable"]:
            return "copy_expert COPY TO STDOUT: %d rows" % n
        cur.execute(sql["createCopyTable"])
        data = "".join("%d\t%s\n" % row for row in copy_rows(n))
        cur.copy_expert(sql["copyIn"], io.StringIO(data))
        cur.execute(sql["copyInCheck"])
        count, total = cur.fetchone()
        if count != n or total != n * (n + 1) // 2:
            raise StepFailure("after COPY FROM STDIN: %d rows, sum %s" % (count, total))
    return "copy_expert COPY TO STDOUT: %d rows; COPY FROM STDIN: %d rows" % (n, n)


scenario = Scenario(plan, "psycopg2", sqlstate_of)
scenario.run({
    "connect": connect,
    "server-info": server_info,
    "prepared": prepared,
    "transaction": transaction,
    "cancel": cancel,
    "big-result": big_result,
    "copy": copy,
})
