"""The step runner the Python driver scenarios share (psycopg2-scenario.py, psycopg-scenario.py).

Reads the plan (see scenario-plan.ts) as JSON on stdin, runs the steps in order, timing each,
and prints one JSON line with the result on stdout. Every step is bounded: a watchdog thread
prints what there is and ends the process when a step runs past the plan's step timeout, since
a blocked libpq call cannot be interrupted from Python. Progress goes to stderr: "step X
started" and "step X result {json}" lines, so that the caller still has the finished steps if it
has to kill the process (psycopg2's cancel() blocks holding the GIL when the cancel connection is
never closed, and then no watchdog thread can run).
"""

import json
import os
import sys
import threading
import time


class StepFailure(Exception):
    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


class Unsupported(Exception):
    """The driver has no native way to do this step."""


def read_plan():
    return json.load(sys.stdin)


class Scenario:
    def __init__(self, plan, driver, sqlstate_of):
        self.plan = plan
        self.driver = driver
        self.sqlstate_of = sqlstate_of
        self.results = []
        self.server = None
        self._lock = threading.Lock()
        self._printed = False

    def _emit(self, steps):
        with self._lock:
            if self._printed:
                return
            self._printed = True
            out = {"driver": self.driver, "steps": steps}
            if self.server is not None:
                out["server"] = self.server
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()

    def _not_run(self, steps, reason):
        return [{"step": s, "ok": False, "ms": 0, "error": "not run: " + reason} for s in steps]

    def run(self, bodies):
        """bodies: step name -> function returning a detail string."""
        steps = self.plan["steps"]
        timeout_s = self.plan["stepTimeoutMs"] / 1000.0
        for i, step in enumerate(steps):
            rest = steps[i + 1:]
            started = time.monotonic()
            print("step %s started" % step, file=sys.stderr, flush=True)

            def hung(step=step, started=started, rest=rest):
                ms = round((time.monotonic() - started) * 1000)
                failed = {"step": step, "ok": False, "ms": ms, "error": "no answer within %d ms" % self.plan["stepTimeoutMs"]}
                self._emit(self.results + [failed] + self._not_run(rest, step + " hung"))
                os._exit(0)

            watchdog = threading.Timer(timeout_s, hung)
            watchdog.daemon = True
            watchdog.start()
            try:
                detail = bodies[step]()
                result = {"step": step, "ok": True, "ms": round((time.monotonic() - started) * 1000)}
                # A body returns its detail line, or (detail, latency in ms) where it measures one.
                if isinstance(detail, tuple):
                    detail, result["latencyMs"] = detail
                result["detail"] = detail
            except Unsupported as e:
                result = {"step": step, "ok": False, "ms": 0, "unsupported": str(e)}
            except Exception as e:  # a driver error is the step's result, whatever its class
                result = {"step": step, "ok": False, "ms": round((time.monotonic() - started) * 1000),
                          "error": "%s: %s" % (type(e).__name__, str(e).strip())}
                sqlstate = e.sqlstate if isinstance(e, StepFailure) else self.sqlstate_of(e)
                if sqlstate:
                    result["sqlstate"] = sqlstate
            finally:
                watchdog.cancel()
            self.results.append(result)
            print("step %s result %s" % (step, json.dumps(result)), file=sys.stderr, flush=True)
            if step == "connect" and not result["ok"]:
                self._emit(self.results + self._not_run(rest, "connect failed"))
                return
        self._emit(self.results)


def cancel_after(delay_s, cancel):
    """Calls cancel() on a thread after delay_s; returns a function giving when it was called."""
    sent = {}

    def fire():
        sent["at"] = time.monotonic()
        cancel()

    timer = threading.Timer(delay_s, fire)
    timer.daemon = True
    timer.start()
    return lambda: sent.get("at")


def copy_rows(n):
    """The rows COPY FROM STDIN sends: id and note, as in the plan."""
    return [(i, "note-%d" % i) for i in range(1, n + 1)]
