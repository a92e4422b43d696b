#!/bin/bash
# Usage: tools/install-code-server.sh DEST. Offline (npm+apt only) install of code-server 4.100.3 (= VS Code 1.100.3, last release wanting Node 20) into $1
set -euo pipefail
DEST=${1:?dest}; mkdir -p "$DEST"; DEST=$(cd "$DEST" && pwd); cd "$DEST"
[ -f package.json ] || echo '{"private":true}' > package.json
npm install --ignore-scripts --no-audit --no-fund code-server@4.100.3
npm rebuild argon2 --build-from-source            # node-pre-gyp would fetch from GitHub
VS="$DEST/node_modules/code-server/lib/vscode"
cd "$VS"
npm install --omit=dev --ignore-scripts --no-audit --no-fund
for m in @vscode/spdlog @vscode/deviceid native-watchdog; do npm rebuild "$m"; done
(cd node_modules/node-pty && npx --yes node-gyp rebuild)   # its post-install.js wants npx node-gyp; skip it
# kerberos (needs libkrb5-dev) skipped: only for proxy auth. @parcel/watcher uses its npm prebuilt.
# @vscode/ripgrep postinstall downloads from GitHub: use Debian's rg instead
TMPD=$(mktemp -d); (cd "$TMPD" && apt-get download ripgrep >/dev/null && dpkg -x ripgrep_*.deb x)
mkdir -p node_modules/@vscode/ripgrep/bin && cp "$TMPD/x/usr/bin/rg" node_modules/@vscode/ripgrep/bin/rg; rm -rf "$TMPD"
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server); (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
cd extensions && npm install --omit=dev --no-audit --no-fund
"$DEST/node_modules/.bin/code-server" --version
