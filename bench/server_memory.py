"""Whole-server memory with the default model and the embedder loaded (prints; asserts nothing).

    python bench/server_memory.py [--workspace fixtures/py-webclient] [--tokens 48]
                                  [--model qwen2.5-coder-0.5b]

The parent starts a child process that runs the real language server (`create_server`,
stdio, as `codeassist serve` does) and talks LSP to it: `initialize` with the fixture
workspace (indexed in the background with the default int8 ONNX MiniLM embedder), polls
`codeassist/status` until the index is built, runs one `codeassist/search`, then one short
model answer. The server does not own a model backend yet (chat comes next), so the child
adds one request, `bench/ask`, that streams a chat answer from `create_backend` in the server
process, as `codeassist ask` does. After each step the parent reads the child's
/proc/PID/status: VmRSS (now), VmHWM (peak so far), and RssAnon / RssFile (private memory vs
mmap'd files such as the GGUF, which the kernel can drop and share).

The index goes into a fresh data dir (so indexing is cold every run); `models/` and
`embedders/` are linked from the real data dir. A missing ONNX export is made first in a
separate process, so its one-time cost is reported apart from the server's steady state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeassist_lsp.llm.catalog import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]

ASK = "bench/ask"
LOAD = "bench/load"
QUERY = "where do we retry failed http requests"
QUESTION = "In two sentences: why retry an HTTP request with exponential backoff?"
MB = 2**20


# --- the child: the real server, plus one request that runs the model engine -------------


def serve() -> None:
    """Run the language server on stdio with a `bench/ask` request (the child process)."""
    import logging

    from codeassist_lsp.config import load_settings
    from codeassist_lsp.llm.backend import create_backend
    from codeassist_lsp.llm.types import GenerationOptions, Message
    from codeassist_lsp.server import create_server

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO
    settings, problems = load_settings()
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    server = create_server(settings)
    backend = create_backend(settings.llm, settings.data_dir)

    @server.feature(LOAD)
    async def load(ls: Any, params: Any) -> str:
        return (await backend.load()).name

    @server.feature(ASK)
    async def ask(ls: Any, params: Any) -> dict[str, Any]:
        get = params.get if isinstance(params, dict) else lambda k: getattr(params, k, None)
        messages = [Message("user", str(get("question")))]
        options = GenerationOptions(max_tokens=int(get("max_tokens") or 48), temperature=0.0)
        start = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        async with aclosing(backend.chat(messages, options)) as stream:
            async for piece in stream:
                first = first if first is not None else time.perf_counter() - start
                pieces.append(piece)
        return {"text": "".join(pieces), "pieces": len(pieces), "ttft": first}

    server.start_io()


# --- the parent: a minimal LSP client over the child's pipes ------------------------------


class Client:
    """JSON-RPC over stdio: requests wait for their reply; server requests get `null`."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self._out: IO[bytes] = proc.stdin
        self._in: IO[bytes] = proc.stdout
        self._replies: dict[int, Queue[dict[str, Any]]] = {}
        self._next = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        with self._lock:
            self._out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._out.flush()

    def _read(self) -> None:
        while True:
            length = 0
            while (line := self._in.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(self._in.read(length))
            if "method" in message and "id" in message:  # a request from the server
                self._send({"id": message["id"], "result": None})
            elif "id" in message and message["id"] in self._replies:
                self._replies[message["id"]].put(message)

    def request(self, method: str, params: Any, timeout: float = 600.0) -> Any:
        with self._lock:
            self._next += 1
            ident = self._next
            self._replies[ident] = Queue()
        self._send({"id": ident, "method": method, "params": params})
        try:
            reply = self._replies[ident].get(timeout=timeout)
        finally:
            del self._replies[ident]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})


@dataclass
class Memory:
    """One reading of the child's /proc/PID/status, in MB."""

    rss: float
    hwm: float
    anon: float
    file: float

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields: dict[str, float] = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                fields[key] = int(value.split()[0]) / 1024
        return cls(fields["VmRSS"], fields["VmHWM"], fields["RssAnon"], fields["RssFile"])


def prepare_embedder(data_dir: Path) -> str:
    """Make the ONNX export the server will load, in its own process; say what it cost."""
    cached = any((data_dir / "embedders").iterdir())
    code = (
        "import sys; from pathlib import Path;"
        "from codeassist_lsp.index.embedder import create_embedder;"
        "create_embedder('minilm', Path(sys.argv[1]))"
    )
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(data_dir / "embedders")], cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"preparing the embedder failed (exit {proc.returncode})")
    wall = time.perf_counter() - start
    what = "loading the cached ONNX export" if cached else "exporting the embedder to ONNX"
    return f"{what}, own process: {wall:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB"


def wait_indexed(client: Client, timeout: float = 900.0) -> dict[str, Any]:
    """Poll `codeassist/status` until a workspace is open and nothing is indexing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.request("codeassist/status", {})
        if status["lastError"]:
            raise RuntimeError(f"the server reports: {status['lastError']}")
        if status["workspaces"] and not status["indexing"]:
            return dict(status)
        time.sleep(0.25)
    raise TimeoutError("indexing did not finish")


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def run(args: argparse.Namespace) -> None:
    from codeassist_lsp.config import load_settings

    real = load_settings()[0].data_dir
    workspace = Path(args.workspace).resolve()
    rows: list[tuple[str, str, Memory]] = []
    with tempfile.TemporaryDirectory(prefix="codeassist-bench-") as tmp:
        data_dir = Path(tmp)
        for name in ("models", "embedders"):
            (real / name).mkdir(parents=True, exist_ok=True)
            (data_dir / name).symlink_to(real / name)
        embedder_note = prepare_embedder(data_dir)
        config = data_dir / "config.json"  # defaults only: the user's config is not read
        config.write_text(json.dumps({"llm": {"model": args.model}}))
        env = {**os.environ, "CODEASSIST_DATA_DIR": str(data_dir), "CODEASSIST_CONFIG": str(config)}
        log_path = data_dir / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=ROOT,
            )
            try:
                client = Client(proc)
                init = {
                    "processId": os.getpid(),
                    "rootUri": workspace.as_uri(),
                    "capabilities": {},
                    "workspaceFolders": [{"uri": workspace.as_uri(), "name": workspace.name}],
                }
                _, took = timed(lambda: client.request("initialize", init))
                rows.append(("server up (initialize)", f"{took:.1f} s", Memory.of(proc.pid)))
                client.notify("initialized", {})
                status, took = timed(lambda: wait_indexed(client))
                ws = status["workspaces"][0]
                counts = ", ".join(f"{k} {ws[k]}" for k in ("files", "chunks") if k in ws)
                rows.append((f"indexed ({counts})", f"{took:.1f} s", Memory.of(proc.pid)))
                hits, took = timed(
                    lambda: client.request("codeassist/search", {"query": QUERY, "limit": 5})
                )
                top = hits[0]["path"] if hits else "no hits"
                rows.append((f"one search (top: {top})", f"{took:.2f} s", Memory.of(proc.pid)))
                model, took = timed(lambda: client.request(LOAD, {}))
                rows.append((f"model loaded ({model})", f"{took:.1f} s", Memory.of(proc.pid)))
                answer, took = timed(
                    lambda: client.request(ASK, {"question": QUESTION, "max_tokens": args.tokens})
                )
                rows.append(
                    (
                        f"one answer ({answer['pieces']} pieces)",
                        f"{took:.1f} s (first piece {answer['ttft']:.1f} s)",
                        Memory.of(proc.pid),
                    )
                )
                _, took = timed(
                    lambda: client.request("codeassist/search", {"query": QUERY, "limit": 5})
                )
                rows.append(("search again, model loaded", f"{took:.2f} s", Memory.of(proc.pid)))
                client.request("shutdown", None)
                client.notify("exit", None)
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if proc.returncode:
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
    settings = load_settings()[0]
    print(
        f"server: model {args.model}, embedder {settings.index.embedder},"
        f" workspace {workspace.name}; load average {os.getloadavg()[0]:.1f} on"
        f" {os.cpu_count()} CPUs (shared machine: times move with other load)"
    )
    print(f"before the server: {embedder_note}")
    print(f"answer: {answer['text'].strip()[:160]!r}")
    width = max(len(label) for label, _, _ in rows)
    print(f"  {'step':<{width}}  {'time':>26}  {'RSS':>7} {'peak':>7} {'anon':>7} {'file':>7}")
    for label, took_text, mem in rows:
        print(
            f"  {label:<{width}}  {took_text:>26}  {mem.rss:>4.0f} MB {mem.hwm:>4.0f} MB"
            f" {mem.anon:>4.0f} MB {mem.file:>4.0f} MB"
        )
    print("RSS and peak (VmRSS, VmHWM) of the server process; anon/file split of the RSS.")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workspace", default=str(ROOT / "fixtures" / "py-webclient"))
    parser.add_argument("--tokens", type=int, default=48, help="longest model answer")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="tier name or GGUF path")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
    else:
        run(args)


if __name__ == "__main__":
    main()
