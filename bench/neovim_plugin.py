"""Latency of the Neovim plugin (clients/neovim) as a user feels it, in a real headless
Neovim against the real server: start, first index, `:CodeAssistSearch` to a filled
quickfix, `K` to the hover float, the statusline function, and one chat question (time to
the sources, to the first words, to the whole answer, with the real default model).

Works on a copy of an installed third-party package (default pathspec). Figures only.

    python3 bench/neovim_plugin.py [--package pathspec] [--file gitignore.py] [--nvim 0.11]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402

from tests.e2e.neovim_runner import PLUGIN, nvim_binary  # noqa: E402


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="pathspec")
    parser.add_argument("--file", default="gitignore.py", help="the file opened, in the package")
    parser.add_argument("--nvim", default="0.11", choices=["0.11", "0.12"])
    parser.add_argument("--no-chat", action="store_true", help="skip the chat question")
    args = parser.parse_args()
    spec = importlib.util.find_spec(args.package)
    nvim = nvim_binary(args.nvim)
    if spec is None or not spec.submodule_search_locations or nvim is None:
        sys.exit(f"needs {args.package} and nvim {args.nvim} installed")
    tmp = Path(tempfile.mkdtemp(prefix="codeassist-bench-nvim-"))
    try:
        ws = tmp / "ws"
        source = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(source, ws / args.package, ignore=shutil.ignore_patterns("__pycache__"))
        (ws / ".git").mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CODEASSIST_DATA_DIR": str(tmp / "data"),
            **{f"XDG_{d}_HOME": str(tmp / d.lower()) for d in ("CONFIG", "DATA", "STATE")},
        }
        out = tmp / "figures.json"
        script = ROOT / "bench" / "nvim" / "plugin_latency.lua"
        load_start = loadavg()
        cmd = [nvim, "--headless", "--clean", "-l", str(script), str(PLUGIN), str(ws)]
        cmd += [f"{args.package}/{args.file}", str(out), sys.executable]
        cmd += ["0" if args.no_chat else "1"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            sys.exit(done.stderr[-2000:])
        f = json.loads(out.read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"Neovim plugin latency: nvim {args.nvim}, {args.package}, {cpu_name()}")
    print(f"code: {code_state()}; load average before {load_start}, after {loadavg()}")
    print(f"server start to initialized      {f['start_ms']:8.0f} ms")
    print(f"start to first index complete    {f['indexed_ms']:8.0f} ms")
    for name, key in (("search to quickfix", "search_ms"), ("K to hover float", "hover_ms")):
        values = f[key]
        print(
            f"{name:32} p50 {statistics.median(values):6.0f} ms  p95 {_p(values, 0.95):6.0f} ms"
            f"  ({len(values)} samples)"
        )
    print(f"statusline() per call            {f['statusline_us']:8.1f} µs")
    if "chat" in f:
        chat = f["chat"]
        print(
            f"chat: sources {chat['sources_ms']:.0f} ms, first words {chat['first_words_ms']:.0f}"
            f" ms, whole answer {chat['total_ms']:.0f} ms"
        )


if __name__ == "__main__":
    main()
