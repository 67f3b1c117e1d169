#!/usr/bin/env bash
# The long load run of issue 19 (README, Benchmarks): 1,000,000 decisions through `iamc serve`
# and 200,000 signed Kinesis requests through `iamc gateway` in front of kinesalite, on
# loopback, every answer checked, the servers' resident memory sampled (benches/load/long.py).
# Builds the release iamc, installs kinesalite and boto3 (tests/gateway/setup.sh, pinned, into
# target/e2e), starts the three servers on free 127.0.0.1 ports, and stops them at the end.
# Bounded: fixed counts and a time cap. Extra arguments go to long.py, e.g.
# `--decisions 100000 --gateway-requests 20000` for a short run. Exit 1 on any error or leak.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"

# shellcheck source=benches/servers.sh
source benches/servers.sh iamc-long-load

target/release/iamc serve --store examples/kinesis/store.json --listen 127.0.0.1:0 \
  >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
serve="$(first_line "$work/serve.out" "listening on ")" || { cat "$work/serve.err" >&2; exit 1; }

node tests/gateway/kinesalite.js "$repo/target/e2e/node" >"$work/kinesalite.out" 2>"$work/kinesalite.err" &
pids+=($!)
upstream="$(first_line "$work/kinesalite.out" "Listening at ")"

target/release/iamc gateway --store "$work/store.json" --credentials "$work/credentials.json" \
  --upstream "$upstream" --db "$work/gateway.db" --account 111122223333 --region us-east-1 \
  --upstream-account 000000000000 --listen 127.0.0.1:0 >"$work/gateway.out" 2>"$work/gateway.err" &
gateway_pid=$!
pids+=("$gateway_pid")
gateway="$(first_line "$work/gateway.out" "listening on ")" || { cat "$work/gateway.err" >&2; exit 1; }
echo "serve at http://$serve, kinesalite at $upstream, gateway at http://$gateway" >&2

status=0
target/e2e/venv/bin/python benches/load/long.py \
  --serve "http://$serve" --serve-pid "$serve_pid" --requests examples/kinesis/requests.jsonl \
  --gateway "http://$gateway" --gateway-pid "$gateway_pid" --credentials "$work/credentials.json" \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "long.py failed ($status); the servers' stderr:" >&2
  tail -n 20 "$work/serve.err" "$work/gateway.err" >&2
fi
exit "$status"
