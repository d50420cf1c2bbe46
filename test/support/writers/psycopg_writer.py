#!/usr/bin/python3
"""psycopg 3 sessions held open, each writing a row every interval until stdin closes.

Reads one JSON line on stdin: {"endpoint": {host, port, user, password, database}, "size": N,
"intervalMs": M, "note": str}. Each of the N threads keeps one connection (autocommit), inserts
into move_writes (writer, seq) and, after an error, reconnects. Prints JSON lines:
{"kind": "writes", "at": ms, "count": n} about every 100 ms, {"kind": "error", "at": ms,
"connecting": b, "sqlstate": s, "message": m} for each error, {"kind": "summary", ...} when stdin closes.
"""

import json
import sys
import threading
import time

import psycopg

plan = json.loads(sys.stdin.readline())
endpoint = plan["endpoint"]
lock = threading.Lock()
stop = threading.Event()
state = {"writes": 0, "errors": 0, "connects": 0, "pending": 0, "seq": 0}


def emit(record):
    with lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def now_ms():
    return int(time.time() * 1000)


def connect():
    # As the pools' 60 s: a crash failover (the cluster's ttl, then an election) takes longer
    # than libpq's usual 10 s, and a client that gives up sooner fails whatever is in front.
    conn = psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=endpoint["user"], password=endpoint["password"],
                           dbname=endpoint["database"], sslmode="disable", connect_timeout=60, autocommit=True,
                           application_name=plan["note"])
    with lock:
        state["connects"] += 1
    return conn


def worker():
    conn = None
    while not stop.is_set():
        connecting = conn is None
        try:
            if conn is None:
                conn = connect()
            connecting = False
            with lock:
                state["seq"] += 1
                seq = state["seq"]
            conn.execute("INSERT INTO move_writes (writer, seq) VALUES (%s, %s)", (plan["note"], seq))
            with lock:
                state["writes"] += 1
                state["pending"] += 1
        except Exception as error:  # every error is reported, classified by the test
            with lock:
                state["errors"] += 1
            emit({"kind": "error", "at": now_ms(), "connecting": connecting, "sqlstate": getattr(error, "sqlstate", None), "message": str(error).strip()})
            try:
                if conn is not None:
                    conn.close()
            except Exception:
                pass
            conn = None
        stop.wait(plan["intervalMs"] / 1000)
    if conn is not None:
        conn.close()


def reporter():
    while not stop.is_set():
        stop.wait(0.1)
        with lock:
            count, state["pending"] = state["pending"], 0
        if count:
            emit({"kind": "writes", "at": now_ms(), "count": count})


threads = [threading.Thread(target=worker) for _ in range(plan["size"])]
for t in threads + [threading.Thread(target=reporter)]:
    t.start()
sys.stdin.read()  # until the test closes stdin
stop.set()
for t in threads:
    t.join()
emit({"kind": "summary", "writes": state["writes"], "errors": state["errors"], "connects": state["connects"]})
