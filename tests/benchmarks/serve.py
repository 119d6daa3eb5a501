"""`seggui serve` under load: N concurrent clients x M requests, against the in-process predictor.

    python tests/benchmarks/serve.py [--clients 4] [--requests 8] [--threads 2] [--size 384x512]

Starts the real server (`seggui serve --model parking-demo`) in a subprocess on
127.0.0.1. One client first sends M pictures (generated aerial scenes, PNG)
to POST /predict one after another: its p50 over the in-process latency is
the bare cost of HTTP. Then N clients send M each at once from N threads
with httpx; every answer is checked (status 200, a mask of the picture's
size). The same pictures then go
through the in-process predictor, one after another, on the same backend and
threads. Prints ONE JSON line: errors, p50/p95 latency and throughput of the
server, the in-process figures, and the ratios (the cost of HTTP, PNG
encoding both ways and queueing). The server and the clients share this
machine's cores, so the figures are for one machine, not a network.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=8, help="requests per client")
    ap.add_argument("--threads", type=int, default=2, help="backend threads (server and in-process)")
    ap.add_argument("--size", default="384x512", help="picture HxW")
    ap.add_argument("--model", default="parking-demo")
    args = ap.parse_args()

    import httpx

    from seggui.core.images import encode_png
    from seggui.core.synth.scene import render_scene
    from seggui.engine.predictor import load_predictor

    h, w = (int(v) for v in args.size.split("x"))
    pictures = [render_scene(seed, size=(h, w)).image for seed in range(min(8, args.requests))]
    payloads = [encode_png(p) for p in pictures]

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "SEGGUI_SERVE_TOKEN"}
    proc = subprocess.Popen([sys.executable, "-m", "seggui", "serve", "--model", args.model, "--port",
                             str(port), "--threads", str(args.threads)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start in 300 s")
            time.sleep(0.3)
        with httpx.Client(base_url=url, timeout=300) as warm:  # first call pays the backend's warm-up
            warm.post("/predict", files={"image": ("w.png", payloads[0])}).raise_for_status()

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(k: int) -> None:
            with httpx.Client(base_url=url, timeout=300) as c:
                for j in range(args.requests):
                    i = (k + j) % len(payloads)
                    t0 = time.perf_counter()
                    try:
                        r = c.post("/predict", files={"image": (f"{i}.png", payloads[i])})
                        ok = r.status_code == 200 and cv2.imdecode(
                            np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED).shape == (h, w)
                        why = "" if ok else f"{r.status_code} {r.text[:100]}"
                    except httpx.HTTPError as exc:
                        why = str(exc)
                    dt = time.perf_counter() - t0
                    with lock:
                        latencies.append(dt)
                        if why:
                            errors.append(why)

        # one client alone first: the bare cost of HTTP per request, without queueing
        client(0)
        single = latencies[:]
        latencies.clear()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        mid = httpx.get(f"{url}/health").json()
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        after = httpx.get(f"{url}/health").json()
    finally:
        proc.terminate()
        proc.wait(60)

    with load_predictor(args.model, threads=args.threads) as pred:
        pred.predict(pictures[0], confidence=False)  # warm-up, as for the server
        local: list[float] = []
        for j in range(args.clients * args.requests):
            t1 = time.perf_counter()
            pred.predict(pictures[j % len(pictures)], confidence=False)
            local.append(time.perf_counter() - t1)

    total = args.clients * args.requests
    served_rps = total / wall
    local_rps = total / sum(local)
    p50 = _pct(latencies, 50)
    local_ms = statistics.median(local)
    print(json.dumps({
        "model": args.model, "picture": f"{w}x{h}", "clients": args.clients,
        "requests_per_client": args.requests, "threads": args.threads, "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "one_client_p50_ms": round(1000 * _pct(single, 50), 1),
        "one_client_overhead_ratio": round(_pct(single, 50) / local_ms, 3),
        "server_p50_ms": round(1000 * p50, 1), "server_p95_ms": round(1000 * _pct(latencies, 95), 1),
        "server_rps": round(served_rps, 2), "batches": after["batches"] - mid["batches"],
        "requests_counted": after["requests"] - mid["requests"],
        "in_process_median_ms": round(1000 * local_ms, 1), "in_process_rps": round(local_rps, 2),
        "throughput_ratio_server_vs_in_process": round(served_rps / local_rps, 3),
    }))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
