#!/usr/bin/env bash
# The demo: runs the default program end to end (preview, up, outputs, destroy) against a local
# moto server that this script installs if missing, starts on 127.0.0.1 and stops. Two accounts
# for real: account B's provider assumes a role in account 222222222222, which moto honours.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$("$root/scripts/install-moto.sh")"
port="${CAIRN_DEMO_PORT:-5055}"
work="$(mktemp -d)"
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 "$python" -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-2
# CAIRN_STATE=s3://BUCKET/PREFIX keeps the state in moto's S3 (the bucket is made here: Cairn
# never makes one); the default is a local file.
export CAIRN_STATE="${CAIRN_STATE:-$work/state.db}" CAIRN_CONFIG_DIR="$work"
if [[ "$CAIRN_STATE" == s3://* ]]; then
  bucket="${CAIRN_STATE#s3://}"; bucket="${bucket%%/*}"
  "$python" -c 'import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-2").create_bucket(
    Bucket=sys.argv[2], CreateBucketConfiguration={"LocationConstraint": "us-east-2"})' \
    "$AWS_ENDPOINT_URL" "$bucket"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn-target}"
cairn() { cargo run --quiet -- "$@"; }

cairn config set accountB:roleArn arn:aws:iam::222222222222:role/cairn-deployer
echo "== preview"; cairn preview
echo "== up";      cairn up --yes
echo "== outputs"; cairn outputs
echo "== up again (nothing to do)"; cairn up --yes
echo "== destroy"; cairn destroy --yes
echo "== history"; cairn history
echo "== stacks";  cairn stack ls
