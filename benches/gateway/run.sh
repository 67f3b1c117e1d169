#!/usr/bin/env bash
# The gateway's added latency over calling the upstream directly, on loopback: builds the
# release iamc, installs kinesalite and boto3 (tests/gateway/setup.sh, pinned, into target/e2e),
# starts kinesalite and `iamc gateway` in front of it on free 127.0.0.1 ports, runs
# benches/gateway/load.py (bounded: a fixed number of requests and a time cap), and writes the
# section "## Gateway: added latency" at the end of BENCHMARKS.md, between the markers
# <!-- gateway: begin --> and <!-- gateway: end --> (a rerun replaces it; nothing else changes).
# Extra arguments go to load.py, e.g. `--requests 1000 --rounds 4`; `--no-write` only prints.
# `--tls`: the same over TLS both ways (a throwaway CA made with openssl; kinesalite serves https
# with its certificate, the gateway listens with --tls-cert and trusts it with --upstream-ca; the
# client trusts it through AWS_CA_BUNDLE): only printed, the section is the cleartext one.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"

write=(--write "$repo/BENCHMARKS.md")
args=()
tls=0
for a in "$@"; do
  if [ "$a" = "--no-write" ]; then write=(); elif [ "$a" = "--tls" ]; then tls=1; write=(); else args+=("$a"); fi
done

# shellcheck source=benches/servers.sh
source benches/servers.sh iamc-gateway-bench

tls_up=() tls_gw=() scheme=http
if [ "$tls" = 1 ]; then
  (
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign \
      -keyout ca.key -out ca.pem 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > leaf.ext
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout leaf.key -out leaf.csr 2>/dev/null
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile leaf.ext -out leaf.pem 2>/dev/null
  )
  tls_up=(0 "$work/leaf.key" "$work/leaf.pem")
  tls_gw=(--tls-cert "$work/leaf.pem" --tls-key "$work/leaf.key" --upstream-ca "$work/ca.pem")
  scheme=https
  export AWS_CA_BUNDLE="$work/ca.pem"
fi

node tests/gateway/kinesalite.js "$repo/target/e2e/node" "${tls_up[@]}" >"$work/kinesalite.out" 2>"$work/kinesalite.err" &
pids+=($!)
upstream="$(first_line "$work/kinesalite.out" "Listening at ")"

target/release/iamc gateway --store "$work/store.json" --credentials "$work/credentials.json" \
  --upstream "$upstream" --db "$work/gateway.db" --account 111122223333 --region us-east-1 \
  --upstream-account 000000000000 --listen 127.0.0.1:0 "${tls_gw[@]}" >"$work/gateway.out" 2>"$work/gateway.err" &
pids+=($!)
addr="$(first_line "$work/gateway.out" "listening on ")" || { cat "$work/gateway.err" >&2; exit 1; }
echo "kinesalite at $upstream, gateway (release) at $scheme://$addr" >&2

status=0
target/e2e/venv/bin/python benches/gateway/load.py --gateway "$scheme://$addr" --upstream "$upstream" \
  --credentials "$work/credentials.json" \
  --command "benches/gateway/run.sh${args[*]:+ ${args[*]}}" \
  --gateway-version ", $(rustc --version | cut -d' ' -f1-2)" \
  "${write[@]}" "${args[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "load.py failed ($status); the gateway's stderr:" >&2
  tail -n 30 "$work/gateway.err" >&2
fi
exit "$status"
