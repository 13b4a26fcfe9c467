"""Requests per second of the `openai` generation backend against a local server that answers at once.

The server (tests/generate/conftest.py run as a script) lives in its own process so that it does
not share the client's GIL. Timed on the same server, in one run:

- quadiv: ``run_generation`` with the ``sampling`` strategy, n=1 (one request per prompt), journal
  and output file included, ``--concurrency`` worker threads sharing one httpx connection pool;
- bare threads: the same number of threads posting the same bodies through one ``httpx.Client``
  (no retries, no journal): the ceiling of the threaded design;
- bare asyncio: ``httpx.AsyncClient`` with the same number of concurrent tasks: the alternative design.

Usage: python bench/bench_generate_client.py [--requests 3000] [--concurrency 32]
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from quadiv.generate import OpenAIBackend, Prompt, Sampling, run_generation

SERVER = Path(__file__).resolve().parents[1] / "tests" / "generate" / "conftest.py"


def body(i: int) -> dict:
    return {"model": "bench", "messages": [{"role": "user", "content": f"prompt {i}"}], "temperature": 1.0,
            "max_tokens": 64, "seed": 0}


def quadiv_rate(url: str, requests: int, concurrency: int) -> float:
    backend = OpenAIBackend("bench", base_url=url, concurrency=concurrency, capabilities={"n_samples", "seed"})
    prompts = [Prompt(i, f"prompt {i}") for i in range(requests)]
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_generation(prompts, Sampling(max_tokens=64), backend, Path(folder) / "out.jsonl", n=1,
                       concurrency=concurrency)
        seconds = time.perf_counter() - start
    backend.close()
    return requests / seconds


def threads_rate(url: str, requests: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    counter = iter(range(requests))
    lock = threading.Lock()

    def work(client: httpx.Client) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            client.post(f"{url}/chat/completions", json=body(i)).raise_for_status()

    with httpx.Client(limits=limits, timeout=60) as client:
        threads = [threading.Thread(target=work, args=(client,)) for _ in range(concurrency)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return requests / (time.perf_counter() - start)


def asyncio_rate(url: str, requests: int, concurrency: int) -> float:
    async def main() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        queue = iter(range(requests))
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            async def work() -> None:
                for i in queue:
                    (await client.post(f"{url}/chat/completions", json=body(i))).raise_for_status()

            start = time.perf_counter()
            await asyncio.gather(*(work() for _ in range(concurrency)))
            return requests / (time.perf_counter() - start)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        threads_rate(url, 200, args.concurrency)  # warm up the server's threads and connections
        rates = {"quadiv run_generation": quadiv_rate(url, args.requests, args.concurrency),
                 "bare httpx threads": threads_rate(url, args.requests, args.concurrency),
                 "bare httpx asyncio": asyncio_rate(url, args.requests, args.concurrency)}
    finally:
        server.terminate()
        server.wait()
    quadiv = rates["quadiv run_generation"]
    print(f"{args.requests} requests, concurrency {args.concurrency}, server in its own process")
    for name, rate in rates.items():
        print(f"{name:24s} {rate:8.0f} requests/s   quadiv / this = {quadiv / rate:.2f}")


if __name__ == "__main__":
    main()
