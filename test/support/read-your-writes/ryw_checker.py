#!/usr/bin/python3
"""Read-your-writes checker for psycopg2 and psycopg 3 (run with Debian's /usr/bin/python3).

Reads a JSON plan on stdin: {"driver": "psycopg2"|"psycopg3", "endpoint": {...}, "key": str,
"iterations": int, "deadlineSeconds": float, "transactions": bool}. Each iteration writes a new
value to its own row, in autocommit or (transactions) in a transaction of its own the driver's
way (psycopg2: autocommit off and commit(), its BEGIN sent apart; psycopg 3: conn.transaction()),
reads it back at once in the same session in autocommit and reads it once more; a read that sees
anything else is stale. Prints one JSON line: iterations done, stale reads, reads by server
port, the first errors.
"""

import json
import sys
import time

plan = json.load(sys.stdin)
endpoint = plan["endpoint"]
kwargs = dict(host=endpoint["host"], port=endpoint["port"], user=endpoint["user"], dbname=endpoint["database"],
              sslmode=endpoint.get("sslmode", "disable"), connect_timeout=10, application_name="ryw-" + plan["driver"])
if endpoint.get("password") is not None:
    kwargs["password"] = endpoint["password"]

if plan["driver"] == "psycopg2":
    import psycopg2 as driver
    conn = driver.connect(**kwargs)
    conn.autocommit = True
    cursor = conn.cursor()

    def run(query, params):
        cursor.execute(query, params)
        return cursor.fetchone() if cursor.description else None

    def write(query, params):
        conn.autocommit = False
        cursor.execute(query, params)
        conn.commit()
        conn.autocommit = True
else:
    import psycopg as driver
    conn = driver.connect(autocommit=True, **kwargs)

    def run(query, params):
        cur = conn.execute(query, params)
        return cur.fetchone() if cur.description else None

    def write(query, params):
        with conn.transaction():
            conn.execute(query, params)

key = plan["key"]
deadline = time.monotonic() + plan["deadlineSeconds"]
result = {"iterations": 0, "stale": 0, "reads": {}, "errors": []}
run("INSERT INTO ryw_check (k, v) VALUES (%s, 0) ON CONFLICT (k) DO UPDATE SET v = 0", (key,))
for i in range(1, plan["iterations"] + 1):
    if time.monotonic() > deadline:
        result["errors"].append("deadline passed")
        break
    try:
        (write if plan.get("transactions") else run)("UPDATE ryw_check SET v = %s WHERE k = %s", (i, key))
        for _ in range(2):
            v, port = run("SELECT (SELECT v FROM ryw_check WHERE k = %s), inet_server_port()", (key,))
            result["reads"][str(port)] = result["reads"].get(str(port), 0) + 1
            if v != i:
                result["stale"] += 1
        result["iterations"] = i
    except Exception as error:  # reported, not hidden: the test asserts there are none
        result["errors"].append("%s: %s" % (getattr(error, "pgcode", None) or getattr(error, "sqlstate", None), error))
        if len(result["errors"]) > 5:
            break
conn.close()
print(json.dumps(result))
