"""The default model's original weights against its faster copy (`llm.requantize`).

Makes the copy (`codeassist_lsp/llm/requantize.py`) in a temporary data dir, then, in one
process with both loaded, interleaves repetitions of: a 500-token prompt read from an
empty cache, and 48 greedy tokens after it. Prints prompt and generation tok/s (median)
and, over the first 512 tokens of up to 12 source files (`--source`, default: the
tenacity and semver sources `retrieval_eval.py` caches), the perplexity and how often the
copy's most likely next token is the original's. Figures only.

    PYTHONPATH=$PWD python3 bench/weights.py [--reps 3] [--threads 2] [--source DIR ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402
from retrieval_eval import CACHE  # noqa: E402

from codeassist_lsp.config import default_data_dir  # noqa: E402
from codeassist_lsp.llm import requantize, store  # noqa: E402
from codeassist_lsp.llm.catalog import DEFAULT_MODEL  # noqa: E402

PROMPT_TOKENS = 500
GENERATED = 48
TEXT_TOKENS = 512
SOURCES = [CACHE / "tenacity-9.0.0", CACHE / "semver-7.6.3"]


def texts(sources: list[Path]) -> list[str]:
    """The start of up to 6 code files from each source folder."""
    out = []
    for folder in sources:
        files = sorted(p for p in folder.rglob("*") if p.suffix in {".py", ".js", ".go", ".rs"})
        out += [p.read_text(errors="replace")[:3000] for p in files[:6]]
    return out


def speed(llm: llama_cpp.Llama, tokens: list[int]) -> tuple[float, float]:
    """Prompt tok/s from an empty cache, then greedy generated tok/s."""
    llm.reset()
    started = time.perf_counter()
    llm.eval(tokens)
    prompt = len(tokens) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(GENERATED):
        llm.eval([llm.sample(temp=0.0)])
    return prompt, GENERATED / (time.perf_counter() - started)


def predictions(llm: llama_cpp.Llama, text: str) -> tuple[float, int, list[int]]:
    """Summed negative log-likelihood, tokens scored, and the most likely next tokens."""
    tokens = llm.tokenize(text.encode())[:TEXT_TOKENS]
    llm.reset()
    llm.eval(tokens)
    logits = np.array(llm.scores[: len(tokens)])
    top = logits.max(1, keepdims=True)
    log_norm = (np.log(np.exp(logits - top).sum(1, keepdims=True)) + top)[:-1, 0]
    picked = logits[np.arange(len(tokens) - 1), tokens[1:]]
    return float((log_norm - picked).sum()), len(tokens) - 1, logits[:-1].argmax(1).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--source", type=Path, action="append")
    args = parser.parse_args()
    original = store.prepare(DEFAULT_MODEL, default_data_dir(), check_ram=False)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        copy = requantize.fast_model(original, Path(tmp), args.threads)
        made_s = time.perf_counter() - started
        files = {"original": original.path, "copy": copy.path}
        sizes = {name: path.stat().st_size / 1e6 for name, path in files.items()}
        load_start = loadavg()
        models = {
            name: llama_cpp.Llama(
                str(path), n_ctx=1024, n_threads=args.threads, n_batch=512, verbose=False
            )
            for name, path in files.items()
        }
        prompt = models["original"].tokenize((ROOT / "README.md").read_bytes())[:PROMPT_TOKENS]
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
        for _ in range(args.reps):
            for name, llm in models.items():
                runs[name].append(speed(llm, prompt))
        load_end = loadavg()
        for llm in models.values():
            llm.close()
        scored = {}
        for name, path in files.items():
            llm = llama_cpp.Llama(str(path), n_ctx=TEXT_TOKENS, logits_all=True, verbose=False)
            results = [predictions(llm, text) for text in texts(args.source or SOURCES)]
            llm.close()
            scored[name] = results
    print(f"weights: {DEFAULT_MODEL}, {args.threads} threads, median of {args.reps}")
    print(f"CPU: {cpu_name()}; code: {code_state()}; the copy made in {made_s:.1f} s")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
    print("| file | MB | prompt tok/s | generated tok/s | perplexity | next token as original |")
    print("|---|---|---|---|---|---|")
    base = [top for _, _, tops in scored["original"] for top in tops]
    for name in models:
        prompt_rate = statistics.median(p for p, _ in runs[name])
        gen_rate = statistics.median(g for _, g in runs[name])
        nll = sum(n for n, _, _ in scored[name])
        count = sum(c for _, c, _ in scored[name])
        tops = [top for _, _, t in scored[name] for top in t]
        same = sum(a == b for a, b in zip(tops, base, strict=True)) / len(base)
        print(
            f"| {name} | {sizes[name]:.0f} | {prompt_rate:.0f} | {gen_rate:.1f} | "
            f"{np.exp(nll / count):.3f} | {same:.1%} |"
        )


if __name__ == "__main__":
    main()
