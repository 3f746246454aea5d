#!/usr/bin/env bash
# Installs the pinned moto server into a project-local virtual environment (default: .venv at
# the repository root, or $CAIRN_VENV), once. Prints the path of its python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CAIRN_VENV:-$root/.venv}"
req="$root/scripts/moto-requirements.txt"
stamp="$venv/.cairn-moto-installed"
if [ ! -f "$stamp" ] || ! cmp -s "$req" "$stamp"; then
  echo "installing moto into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  cp "$req" "$stamp"
fi
echo "$venv/bin/python"
