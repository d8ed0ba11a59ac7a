"""Load on the HTTP API: many clients at once against the offline backend, on loopback.

Run:  .venv/bin/python benchmarks/bench_web.py [--compositions 200] [--clients 20] [--workers 2]

The server runs in its own process (its memory is read from /proc). Each client submits its
share of compositions one after another and polls each to the end; a 429 is counted as an
explicit rejection. Checks: none lost, none duplicated, every submission completes or is
refused with 429; prints p50/p95 time-to-result and the server's memory growth over the run
(its end against its level in the first quarter, once every worker has run).
Bounded in count and time; it stops by itself.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "pictune" / "data" / "example.jpg"
SERVER = """
import sys, uvicorn
from pathlib import Path
from pictune.web.app import ServerSettings, create_app
app = create_app(ServerSettings(Path(sys.argv[1]), workers=int(sys.argv[3]), max_queue=int(sys.argv[4])))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def render_workers(parent: int) -> list[int]:
    """The warm render workers (pictune.music.warm) the server started: their own memory."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(stat[1]) == parent and b"pictune.music.render_worker" in cmdline:
            found.append(int(entry.name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compositions", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue", type=int, default=16)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="pictune-bench-web-"))
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(data), str(port), str(args.workers), str(args.queue)],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    image = EXAMPLE.read_bytes()
    results: list[tuple[str, str, float]] = []  # (id or "", outcome, seconds)
    lock = threading.Lock()
    memory: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                httpx.get(base + "/api/compositions", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        # warm-up: one composition so the index and caches are loaded before measuring memory
        with httpx.Client(base_url=base, timeout=60) as warm:
            first = warm.post("/api/compositions", files={"image": ("warm.jpg", image)}).json()[
                "id"
            ]
            while warm.get(f"/api/compositions/{first}").json()["status"] not in ("done", "failed"):
                time.sleep(0.2)
        memory.append(rss_kb(server.pid))

        def client(number: int, count: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                for i in range(count):
                    start = time.perf_counter()
                    response = http.post(
                        "/api/compositions",
                        files={"image": (f"c{number}-{i}.jpg", image)},
                        data={"seed": str(i)},
                    )
                    if response.status_code == 429:
                        with lock:
                            results.append(("", "rejected", time.perf_counter() - start))
                        time.sleep(0.5)
                        continue
                    job_id = response.json()["id"]
                    status = "queued"
                    stop = time.time() + 300
                    while status not in ("done", "failed") and time.time() < stop:
                        time.sleep(0.1)
                        status = http.get(f"/api/compositions/{job_id}").json()["status"]
                    with lock:
                        results.append((job_id, status, time.perf_counter() - start))

        share = [
            args.compositions // args.clients + (i < args.compositions % args.clients)
            for i in range(args.clients)
        ]
        threads = [threading.Thread(target=client, args=(i, n)) for i, n in enumerate(share)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        quarter: list[int] = []  # memory while the first quarter of the results came in
        while any(t.is_alive() for t in threads):
            memory.append(rss_kb(server.pid))
            if len(results) <= args.compositions // 4:
                quarter.append(memory[-1])
            time.sleep(1)
        elapsed = time.perf_counter() - started
        workers = [rss_kb(pid) for pid in render_workers(server.pid)]
        history = httpx.get(base + "/api/compositions", params={"limit": 500}).json()
    finally:
        server.terminate()
        server.wait(10)
    accepted = [r for r in results if r[0]]
    ids = [r[0] for r in accepted]
    done = [r for r in accepted if r[1] == "done"]
    rejected = [r for r in results if r[1] == "rejected"]
    times = sorted(r[2] for r in done)
    print(
        f"{args.compositions} compositions from {args.clients} clients, {args.workers} workers, queue {args.queue}: {elapsed:.0f} s"
    )
    print(
        f"   completed {len(done)}, rejected with 429 {len(rejected)}, other {len(accepted) - len(done)}; accounted for {len(results)}/{args.compositions}"
    )
    print(
        f"   lost: {args.compositions - len(results)}; duplicated ids: {len(ids) - len(set(ids))}; in history: {len({h['id'] for h in history} & set(ids))}/{len(ids)}"
    )
    if times:
        print(
            f"   time to result: p50 {statistics.median(times):.2f} s, p95 {times[int(0.95 * (len(times) - 1))]:.2f} s"
        )
    # Growth over the run: the end against the highest level of the first quarter, when every
    # worker thread, the index and the per-meter melody models are already in memory.
    steady = max(quarter) if quarter else memory[0]
    growth = (memory[-1] - steady) / steady
    print(
        f"   server memory: {memory[0] / 1024:.0f} MB after one composition, {steady / 1024:.0f} MB over the first quarter, "
        f"{max(memory) / 1024:.0f} MB peak, {memory[-1] / 1024:.0f} MB at the end ({100 * growth:+.1f}% over the run)   target ≤ +10%"
    )
    print(
        f"   warm render workers at the end (own processes, not in the server's figure): {len(workers)}, "
        + (", ".join(f"{kb / 1024:.0f} MB" for kb in workers) or "none")
    )


if __name__ == "__main__":
    main()
