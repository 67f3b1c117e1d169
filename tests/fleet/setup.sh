#!/usr/bin/env bash
# Installs what tests/fleet.rs needs: etcd (the Debian package etcd-server, /usr/bin/etcd) and
# what the gateway e2e tests need (kinesalite, boto3: tests/gateway/setup.sh). Idempotent.
# etcd-client (the Rust crate) builds its gRPC code with protoc: the Debian package
# protobuf-compiler, installed here too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
need=()
[ -x /usr/bin/etcd ] || need+=(etcd-server)
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
if [ "${#need[@]}" -gt 0 ]; then
  echo "fleet/setup.sh: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # The package's service is not started (policy-rc.d or no systemd): the tests start etcd.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The first line only, without `| head` (under pipefail, etcd's SIGPIPE would fail the script).
version="$(/usr/bin/etcd --version)"
echo "${version%%$'\n'*}"
bash "$here/../gateway/setup.sh" "$@"
