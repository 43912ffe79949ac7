#!/usr/bin/env bash
# Gives each third-party reference MCP server pinned in tools/mcp-reference/NAME.txt a venv of its own
# (tools/mcp-reference/NAME/), since their `mcp` pins differ from Pepper's. Re-running is cheap: a venv
# is rebuilt only when its requirements file is newer than it.
set -euo pipefail
cd "$(dirname "$0")/../tools/mcp-reference"
PYTHON=${PYTHON:-python3}

for requirements in *.txt; do
    name=${requirements%.txt}
    stamp=$name/.installed
    if [ -f "$stamp" ] && [ "$stamp" -nt "$requirements" ]; then
        continue
    fi
    rm -rf "$name"
    "$PYTHON" -m venv "$name"
    "$name/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$stamp"
done
