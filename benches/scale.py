"""Client side of benches/scale: measures one running lamina holding `articles`
articles (the seed plus bulk clones `scale-1` …), prints one JSON object.

    python3 benches/scale.py BASE_URL TOKEN LAMINA_PID ARTICLES

Phases, in this order (reads that fill lamina's cache come after the cold reads):
cold then cached GET of 1,000 articles never read before; CREATES creates
through the API by WRITERS concurrent writers; a list walk; an initial sync; a
delta sync after one section edit. The lamina process's RSS is sampled every
20 ms during each phase, and its VmHWM reset before it (/proc/PID/clear_refs).
"""

import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse

BASE, TOKEN, PID, ARTICLES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CREATES = int(os.environ.get("CREATES", "2000"))
WRITERS = int(os.environ.get("WRITERS", "8"))
SAMPLE = int(os.environ.get("SAMPLE", "1000"))
SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "content", "seed", "micro-needling.json")
host = urllib.parse.urlsplit(BASE)


def connection():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=300)


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def walk(path, last):
    """GETs `path`, then follows next_cursor until `last(page)`: yields (page, body)."""
    cursor = None
    while True:
        url = path + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, body = call(conn, "GET", url)
        assert status == 200, (url, status, body[:200])
        page = json.loads(body)
        yield page, body
        if last(page):
            return
        cursor = page["next_cursor"]


def status_kib(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Rss:
    """Peak RSS of lamina during a phase: VmHWM after a reset, and 20 ms samples."""

    def __enter__(self):
        try:
            with open(f"/proc/{PID}/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
        except OSError:
            pass
        self.start = status_kib("VmRSS")
        self.peak = self.start
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while self.running:
            self.peak = max(self.peak, status_kib("VmRSS"))
            time.sleep(0.02)

    def __exit__(self, *_):
        self.running = False
        self.thread.join()
        self.hwm = max(self.peak, status_kib("VmHWM"))

    def mib(self):
        return {"rss_start_mib": round(self.start / 1024, 1), "rss_peak_mib": round(self.hwm / 1024, 1)}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


results = {"articles": ARTICLES}

# Cold, then cached single-article reads over one keep-alive connection.
rng = random.Random(ARTICLES)
slugs = [f"scale-{n}" for n in rng.sample(range(2, ARTICLES), min(SAMPLE, ARTICLES - 2))]
conn = connection()
for label in ("cold", "cached"):
    times = []
    for slug in slugs:
        started = time.perf_counter()
        status, _ = call(conn, "GET", f"/v1/articles/{slug}")
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, (slug, status)
    results[f"get_{label}_p50_ms"] = round(percentile(times, 50), 2)
    results[f"get_{label}_p99_ms"] = round(percentile(times, 99), 2)

# Creates through the API: WRITERS threads, each with its own connection.
document = json.load(open(SEED))
next_index = iter(range(CREATES))
lock = threading.Lock()
failures = []


def writer():
    conn = connection()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    while True:
        with lock:
            n = next(next_index, None)
        if n is None:
            return
        body = dict(document, title=f"{document['title']} (created {n})")
        status, text = call(conn, "PUT", f"/v1/articles/created-{n}", json.dumps(body).encode(), headers)
        if status != 201:
            failures.append((n, status, text[:200]))


with Rss() as rss:
    started = time.perf_counter()
    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
if failures:
    print(f"warning: {len(failures)} creates failed, first: {failures[0]}", file=sys.stderr)
results.update(creates=CREATES, create_failures=len(failures), creates_per_s=round(CREATES / elapsed, 1))
total = ARTICLES + CREATES - len(failures)

# The list walk: /v1/articles?limit=100 to the end (a fresh connection: the
# server closes idle keep-alive connections).
conn = connection()
with Rss() as rss:
    started, pages, items = time.perf_counter(), 0, 0
    for page, _ in walk("/v1/articles?limit=100", lambda page: not page["next_cursor"]):
        pages += 1
        items += len(page["items"])
    list_s = time.perf_counter() - started
results.update(list_s=round(list_s, 1), list_pages=pages, list_items=items,
               **{"list_" + k: v for k, v in rss.mib().items()})
if items != total:
    print(f"warning: the list walk saw {items} articles, expected {total}", file=sys.stderr)

# The initial sync: /v1/sync?limit=500 to has_more:false (anonymous).
conn = connection()
with Rss() as rss:
    started, pages, entries, size = time.perf_counter(), 0, 0, 0
    for page, body in walk("/v1/sync?limit=500", lambda page: not page["has_more"]):
        pages += 1
        size += len(body)
        entries += len(page["entries"])
    cursor = page["next_cursor"]
    sync_s = time.perf_counter() - started
results.update(sync_s=round(sync_s, 1), sync_pages=pages, sync_entries=entries,
               sync_mib=round(size / 2**20, 1), **{"sync_" + k: v for k, v in rss.mib().items()})
if entries != total:
    print(f"warning: the initial sync delivered {entries} entries, expected {total}", file=sys.stderr)

# A delta sync after one section edit.
conn = connection()
headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "If-Match": "*"}
status, body = call(conn, "GET", "/v1/articles/scale-1/sections/overview")
section = json.loads(body)
edit = {"kind": "overview", "heading": section["heading"], "body": section["body"] + " Edited."}
status, body = call(conn, "PUT", "/v1/articles/scale-1/sections/overview", json.dumps(edit).encode(), headers)
assert status == 200, (status, body[:200])
for attempt in range(50):  # the edit shows once every older transaction has ended
    started = time.perf_counter()
    status, body = call(conn, "GET", f"/v1/sync?cursor={urllib.parse.quote(cursor)}")
    assert status == 200, (status, body[:200])
    delta = json.loads(body)
    if delta["entries"]:
        break
    time.sleep(0.02)
results.update(delta_ms=round((time.perf_counter() - started) * 1000, 1), delta_bytes=len(body),
               delta_entries=len(delta["entries"]))
results["rss_end_mib"] = round(status_kib("VmRSS") / 1024, 1)
print(json.dumps(results))
