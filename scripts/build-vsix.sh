#!/usr/bin/env bash
# Build the VS Code extension into a .vsix: npm ci, lint, compile, node tests, vsce package.
# Idempotent (outputs are rebuilt from scratch, dependencies reinstalled only when the lock file changed),
# offline apart from the npm registry, and loud: the first failing step stops the script with its name.
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ext="$here/editors/vscode"
cd "$ext"

step=""
trap 'echo "build-vsix.sh: FEHLER im Schritt \"$step\" (Exit-Code $?)" >&2' ERR
run() { step="$1"; shift; echo "==> $step"; "$@"; }

command -v node >/dev/null || { echo "build-vsix.sh: node fehlt (Node.js >= 20 installieren)" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  echo "build-vsix.sh: Node.js $(node --version) ist zu alt, benötigt wird >= 20" >&2
  exit 1
fi

# npm ci wipes node_modules; skip it when the installed tree came from this exact lock file.
stamp="node_modules/.versprochen-lock.sha256"
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "${FORCE_NPM_CI:-}" == 1 || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  run "npm ci" npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
else
  echo "==> npm ci übersprungen (node_modules passt zu package-lock.json)"
fi

rm -rf out dist ./*.vsix
run "lint (eslint + tsc --noEmit)" npm run --silent lint
run "compile + node tests" npm test --silent
run "vsce package" npm run --silent package

vsix="$(ls ./*.vsix)"
size="$(stat -c %s "$vsix")"
echo "==> $ext/${vsix#./}: $size Bytes ($(( (size + 1023) / 1024 )) KiB)"
