#!/usr/bin/env bash
# A chat answer with its sources, as a Neovim user sees it, captured as text.
#
# Opens a real third-party project (tenacity 9.0.0, the sdist from PyPI that
# bench/retrieval_eval.py caches; downloaded with pip when missing) in a real Neovim inside
# tmux (160x50), with the plugin installed the README's way (a pack/*/start link and
# `require("codeassist").setup({})`, the statusline function) and `codeassist` on PATH
# running this checkout's code. It waits until the index is ready, asks `:CodeAssistChat
# QUESTION`, waits until the answer is complete and writes `tmux capture-pane -p` to OUT.
# The data dir links the installed models/ and embedders/ (as the tests do), so nothing
# is assembled or exported again; with a load average above 2 the model gets one thread
# (two llama.cpp threads stall each other on busy cores).
#
#   bench/nvim_chat_capture.sh [OUT] [QUESTION]     (NVIM_VERSION=0.12 for the 0.12 build)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/notes/nvim-chat-capture.txt}
QUESTION=${2:-how is the exponential backoff delay between retries computed?}
PY=${PYTHON:-python3}
NVIM_VERSION=${NVIM_VERSION:-0.11}
CACHE=${CODEASSIST_BENCH_CACHE:-$HOME/.cache/codeassist-bench}
SRC=$CACHE/tenacity-9.0.0/tenacity-9.0.0
TMUX_SOCKET=codeassist-capture-$$
SESSION=chat

NVIM=$(cd "$ROOT" && PYTHONPATH=$ROOT "$PY" -c \
  "from tests.e2e.neovim_runner import nvim_binary; print(nvim_binary('$NVIM_VERSION') or '')")
[ -n "$NVIM" ] || { echo "no nvim $NVIM_VERSION: install the dev extras (./install.sh)" >&2; exit 1; }
INSTALLED=$(PYTHONPATH=$ROOT "$PY" -c \
  "from codeassist_lsp.config import default_data_dir; print(default_data_dir())")
[ -d "$INSTALLED/models" ] && [ -d "$INSTALLED/embedders" ] ||
  { echo "no models/ or embedders/ in $INSTALLED: run ./install.sh" >&2; exit 1; }

if [ ! -d "$SRC" ]; then
  mkdir -p "$CACHE/tenacity-9.0.0"
  "$PY" -m pip download --no-deps --no-binary :all: -q -d "$CACHE/tenacity-9.0.0" tenacity==9.0.0
  tar -xzf "$CACHE/tenacity-9.0.0/tenacity-9.0.0.tar.gz" -C "$CACHE/tenacity-9.0.0"
fi

TMP=$(mktemp -d /tmp/codeassist-nvim-capture.XXXXXX)
cleanup() {
  tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# the project: a copy, with a .git folder so the plugin finds its root
cp -r "$SRC" "$TMP/tenacity"
mkdir "$TMP/tenacity/.git"
# a data dir of its own, with the installed model and embedder linked in
mkdir -p "$TMP/data"
ln -s "$INSTALLED/models" "$TMP/data/models"
ln -s "$INSTALLED/embedders" "$TMP/data/embedders"
# `codeassist` on PATH: this checkout's code on this Python
mkdir "$TMP/bin"
printf '#!/bin/sh\nPYTHONPATH=%s exec %s -m codeassist_lsp "$@"\n' "$ROOT" "$(command -v "$PY")" >"$TMP/bin/codeassist"
chmod +x "$TMP/bin/codeassist"
# the plugin as the README installs it
mkdir -p "$TMP/xdg/data/nvim/site/pack/codeassist/start" "$TMP/xdg/config/nvim"
ln -s "$ROOT/clients/neovim" "$TMP/xdg/data/nvim/site/pack/codeassist/start/codeassist"
read -r LOAD _ </proc/loadavg
if awk -v l="$LOAD" 'BEGIN { exit !(l > 2) }'; then
  SETTINGS='{ settings = { llm = { threads = 1 } } }'
else
  SETTINGS='{}'
fi
cat >"$TMP/xdg/config/nvim/init.lua" <<EOF
require("codeassist").setup($SETTINGS)
vim.o.statusline = "%f %m%=%{v:lua.require'codeassist'.statusline()} "
EOF

SOCK=$TMP/nvim.sock
tmux -L "$TMUX_SOCKET" new-session -d -s "$SESSION" -x 160 -y 50 -c "$TMP/tenacity" \
  env PATH="$TMP/bin:$PATH" CODEASSIST_DATA_DIR="$TMP/data" CODEASSIST_CONFIG="$TMP/no-config.json" \
  XDG_CONFIG_HOME="$TMP/xdg/config" XDG_DATA_HOME="$TMP/xdg/data" \
  XDG_STATE_HOME="$TMP/xdg/state" XDG_CACHE_HOME="$TMP/xdg/cache" \
  "$NVIM" --listen "$SOCK" tenacity/wait.py

# Evaluate a Lua expression in the running Neovim ('' while it is not listening yet).
lua() {
  "$NVIM" --server "$SOCK" --remote-expr "luaeval(\"$1\")" 2>/dev/null || true
}

# Wait up to $1 seconds for `lua "$2"` to print something matching the regex $3.
wait_for() {
  local deadline=$((SECONDS + $1)) got=
  until got=$(lua "$2") && [[ $got =~ $3 ]]; do
    if ((SECONDS > deadline)); then
      echo "timed out waiting for /$3/ (last: '$got')" >&2
      tmux -L "$TMUX_SOCKET" capture-pane -p -t "$SESSION" >&2
      exit 1
    fi
    sleep 2
  done
}

# ready: the statusline counts the files, nothing is being indexed or left to embed
wait_for 600 "require'codeassist'.statusline()" '^CodeAssist · [1-9][0-9]* files( · [^0-9].*)?$'
tmux -L "$TMUX_SOCKET" send-keys -t "$SESSION" ":CodeAssistChat $QUESTION" Enter
wait_for 600 "(require'codeassist.chat'.session().turns[1] or {}).state or ''" '^(done|error|cancelled)$'
sleep 1 # one more redraw
mkdir -p "$(dirname "$OUT")"
tmux -L "$TMUX_SOCKET" capture-pane -p -t "$SESSION" >"$OUT"
tmux -L "$TMUX_SOCKET" send-keys -t "$SESSION" Escape ":qa!" Enter
for _ in $(seq 30); do # the session ends with nvim, which stops the server
  tmux -L "$TMUX_SOCKET" has-session -t "$SESSION" 2>/dev/null || break
  sleep 1
done
echo "captured: $OUT"
