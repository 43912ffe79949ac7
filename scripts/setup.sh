#!/usr/bin/env bash
# Creates .venv and installs Pepper with its test tools, plus the system packages the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# System packages (one per line in scripts/apt-packages.txt): real servers the tests talk to.
missing=()
while read -r pkg; do
    [ -z "$pkg" ] || [[ "$pkg" == \#* ]] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done < scripts/apt-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "missing system packages (install them as root): ${missing[*]}" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev,postgres]"

# Node 22, the MCP conformance suite and the MCP Inspector CLI, pinned in tools/node.
bash scripts/setup-node.sh

# Third-party reference MCP servers (tests of servers the user adds), each in a venv of its own.
PYTHON="$PYTHON" bash scripts/setup-mcp-reference.sh
