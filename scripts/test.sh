#!/usr/bin/env bash
# The project's test command (what .ci/run calls): installs the pinned AWS emulator if
# missing, then runs every test of the workspace. The tests start their own emulators.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
CAIRN_MOTO_PYTHON="$("$root/scripts/install-moto.sh")"
export CAIRN_MOTO_PYTHON
# Reuse a build directory outside the clone when there is one (a fresh clone then skips
# rebuilding the AWS SDK); cargo creates it when there is not.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn-target}"
cargo test --workspace --locked
# Every public item of the library crates documented, and the docs free of broken links.
RUSTDOCFLAGS="-D warnings -D missing-docs" \
    cargo doc --no-deps --locked -p cairn -p cairn-aws -p cairn-state
# The template a team starts from builds on its own, outside this workspace, and runs.
"$root/scripts/check-template.sh"
