#!/usr/bin/env bash
# Builds `templates/new-program` as a team would use it: copied out of Cairn's repository, on
# its own (not part of Cairn's workspace), its dependencies pointed at this checkout. The
# workspace's lock file goes with it, so it builds the same versions (offline, from what the
# workspace's build fetched) and reuses their build in `$CARGO_TARGET_DIR`. Then the program
# must run: `config get` of its stack configuration, and `--help`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$root/templates/new-program" "$work/my-infrastructure"
cd "$work/my-infrastructure"
sed -i.orig \
    -e "s|path = \"../../core\"|path = \"$root/core\"|" \
    -e "s|path = \"../../providers/aws\"|path = \"$root/providers/aws\"|" \
    Cargo.toml
rm Cargo.toml.orig
grep -q "path = \"$root/core\"" Cargo.toml
cp "$root/Cargo.lock" .
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn-target}"
cargo build --offline --quiet
region="$(cargo run --offline --quiet -- config get aws:region)"
test "$region" = "us-east-2"
cargo run --offline --quiet -- --help > /dev/null
echo "templates/new-program: built on its own and ran"
