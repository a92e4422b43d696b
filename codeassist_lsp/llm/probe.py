"""Load an unknown GGUF once in a child process before loading it in the server.

Some malformed GGUFs make llama.cpp abort the whole process (e.g. duplicate token
strings trip a GGML_ASSERT). Files with a known sha256 from the catalog are safe; any
other file is first loaded by a child, so a bad one kills the child, not the server.
The verdict is cached by size and mtime, so this costs time once per file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from codeassist_lsp.llm.checksum import recall_fact, remember_fact
from codeassist_lsp.llm.errors import ModelUnavailable

FACT = "loads"
_CHILD = """
import sys
import llama_cpp
llama_cpp.llama_backend_init()
params = llama_cpp.llama_model_default_params()
model = llama_cpp.llama_model_load_from_file(sys.argv[1].encode(), params)
sys.exit(0 if model else 3)
"""


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in reversed(lines):
        if "error" in line.lower() or "failed" in line.lower():
            return line[-200:]
    return lines[-1][-200:] if lines else "no message"


def _verdict(path: Path, timeout: float) -> str:
    """ "ok", or why llama.cpp cannot load the file."""
    try:
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"loading took longer than {timeout:.0f} s"
    if child.returncode == 0:
        return "ok"
    if child.returncode < 0 or child.returncode == 128 + signal.SIGABRT:
        return f"llama.cpp crashed on it ({_last_error(child.stderr)})"
    return _last_error(child.stderr)


def ensure_loadable(path: Path, cache: Path, timeout: float = 300.0) -> None:
    """Raise ModelUnavailable unless a child process can load `path`."""
    known = recall_fact(path, cache, FACT)
    verdict = known if isinstance(known, str) else _verdict(path, timeout)
    if known is None:
        remember_fact(path, cache, FACT, verdict)
    if verdict != "ok":
        raise ModelUnavailable(f"llama.cpp cannot load {path.name}: {verdict}")
