"""The server under load: four editors' worth of traffic on one server, over real code.

Copies an installed third-party package (default: networkx) into a workspace, starts the
real `codeassist serve` over stdio (its own data dir; the embedder export is linked from
the default data dir when there is one), waits for the index, then runs `--workers`
concurrent request streams for `--seconds` after a warm-up: searches, edits of open
documents, workspace symbols, definitions, hovers, and searches cancelled right after
they are sent. Prints requests answered, p50/p95/max latency per kind, error replies,
cancellations, and the server's RSS after the warm-up and at the end. Figures only.

    python3 bench/server_load.py [--package networkx] [--workers 4] [--seconds 60]
                                 [--kinds search,edit,symbol,definition,hover,cancel]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402

from codeassist_lsp.config import default_data_dir  # noqa: E402

QUERIES = [
    "shortest path between two nodes",
    "read a graph from a file",
    "check whether a graph is connected",
    "add an edge with a weight",
    "compute the degree of every node",
    "raise an error for a missing node",
    "convert to an adjacency matrix",
    "iterate over neighbors",
]


class Connection:
    """One stdio connection to the server: framed JSON-RPC out, replies matched by id."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.ensure_future(self._read())

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any) -> tuple[int, asyncio.Future[dict[str, Any]]]:
        msg_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[msg_id] = future
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, future

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = await stream.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif not line.strip():
                    break
            message = json.loads(await stream.readexactly(length))
            if "id" in message and "method" not in message:
                future = self.waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif "id" in message:  # a request from the server (progress, registration)
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


KINDS = {"search": 4, "edit": 2, "symbol": 1, "definition": 1, "hover": 1, "cancel": 1}


async def worker(
    conn: Connection, files: list[Path], until: float, out: dict[str, Any], kinds: list[str]
) -> None:
    rng = random.Random(id(out) + len(out["latency"]))
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in files}
    versions = defaultdict(int)
    weights = [KINDS[k] for k in kinds]
    while time.monotonic() < until:
        kind = rng.choices(kinds, weights)[0]
        path = rng.choice(files)
        uri = path.as_uri()
        lines = texts[path].splitlines() or [""]
        line = rng.randrange(len(lines))
        position = {"line": line, "character": min(len(lines[line]), rng.randrange(1, 30))}
        if kind == "edit":
            versions[uri] += 1
            texts[path] += f"\n# edit {versions[uri]}\n"
            out["edits"] += 1
            conn.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": versions[uri]},
                    "contentChanges": [{"text": texts[path]}],
                },
            )
            await asyncio.sleep(0.05)
            continue
        if kind in ("search", "cancel"):
            method, params = "codeassist/search", {"query": rng.choice(QUERIES), "limit": 10}
        elif kind == "symbol":
            method, params = "workspace/symbol", {"query": rng.choice(["graph", "node", "edge"])}
        else:
            method = f"textDocument/{kind}"
            params = {"textDocument": {"uri": uri}, "position": position}
        start = time.perf_counter()
        msg_id, future = conn.request(method, params)
        if kind == "cancel":
            conn.notify("$/cancelRequest", {"id": msg_id})
        try:
            reply = await asyncio.wait_for(future, 120)
        except TimeoutError:
            out["unanswered"] += 1
            continue
        took = (time.perf_counter() - start) * 1000
        error = reply.get("error")
        if error and error.get("code") == -32800:
            out["cancelled"] += 1
        elif error:
            out["errors"].append(f"{method}: {error.get('message')}")
        else:
            out["latency"][kind].append(took)


async def sample_rss(pid: int, until: float, every: float, out: list[float]) -> None:
    """RSS every `every` seconds until `until`: growth that levels off is a cache filling,
    growth that keeps its slope is a leak."""
    while time.monotonic() < until:
        await asyncio.sleep(every)
        out.append(rss_mb(pid))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run(args: argparse.Namespace) -> None:
    spec = importlib.util.find_spec(args.package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{args.package} is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="codeassist-bench-load-"))
    ws = tmp / "ws"
    source = Path(next(iter(spec.submodule_search_locations)))
    shutil.copytree(source, ws / args.package, ignore=shutil.ignore_patterns("__pycache__"))
    data = tmp / "data"
    data.mkdir()
    if (default_data_dir() / "embedders").is_dir():
        (data / "embedders").symlink_to(default_data_dir() / "embedders")
    env = {**os.environ, "CODEASSIST_DATA_DIR": str(data), "CODEASSIST_CONFIG": str(tmp / "none")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "codeassist_lsp", "serve",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=env, cwd=ROOT,
    )  # fmt: skip
    conn = Connection(proc)
    try:
        caps = {"workspace": {"symbol": {}}, "textDocument": {"hover": {}}}
        _, init = conn.request("initialize", {"capabilities": caps, "rootUri": ws.as_uri()})
        await init
        conn.notify("initialized", {})
        started = time.monotonic()
        while True:
            _, status = conn.request("codeassist/status", {})
            info = (await status)["result"]
            if info["workspaces"] and not info["indexing"] and info["workspaces"][0]["files"]:
                break
            await asyncio.sleep(0.5)
        print(
            f"indexed {info['workspaces'][0]['files']} files in {time.monotonic() - started:.0f} s"
        )
        files = sorted(ws.rglob("*.py"))[:40]
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            doc = {"uri": path.as_uri(), "languageId": "python", "version": 0, "text": text}
            conn.notify("textDocument/didOpen", {"textDocument": doc})
        out: dict[str, Any] = {
            "latency": defaultdict(list), "errors": [], "cancelled": 0, "unanswered": 0, "edits": 0,
        }  # fmt: skip
        warm = time.monotonic() + args.warmup
        kinds = args.kinds.split(",")
        await asyncio.gather(*(worker(conn, files, warm, out, kinds) for _ in range(args.workers)))
        rss_start = rss_mb(proc.pid)
        out = {
            "latency": defaultdict(list),
            "errors": [],
            "cancelled": 0,
            "unanswered": 0,
            "edits": 0,
        }
        until = time.monotonic() + args.seconds
        samples: list[float] = []
        await asyncio.gather(
            sample_rss(proc.pid, until, args.seconds / 8, samples),
            *(worker(conn, files, until, out, kinds) for _ in range(args.workers)),
        )
        rss_end = rss_mb(proc.pid)
    finally:
        proc.kill()
        await proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    answered = sum(len(v) for v in out["latency"].values())
    print(f"{cpu_name()}; load {loadavg()}; {code_state()}")
    print(f"{args.workers} workers x {args.seconds} s over {args.package}: {answered} answered, "
          f"{out['cancelled']} cancelled, {len(out['errors'])} errors, "
          f"{out['unanswered']} unanswered, {out['edits']} edits")  # fmt: skip
    print(f"{'kind':<12}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind, values in sorted(out["latency"].items()):
        print(
            f"{kind:<12}{len(values):>6}{statistics.median(values):>10.1f}"
            f"{pct(values, 0.95):>10.1f}{max(values):>10.1f}"
        )
    growth = 100 * (rss_end - rss_start) / rss_start if rss_start else 0.0
    print(f"RSS after warm-up {rss_start:.0f} MB, at the end {rss_end:.0f} MB ({growth:+.1f}%)")
    print("RSS every", f"{args.seconds / 8:.0f} s:", " ".join(f"{mb:.0f}" for mb in samples))
    for error in out["errors"][:10]:
        print("error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="networkx")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--kinds", default=",".join(KINDS), help="request kinds to send")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
