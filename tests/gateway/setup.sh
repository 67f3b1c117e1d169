#!/usr/bin/env bash
# Installs what the gateway end-to-end tests (tests/gateway_e2e.rs) and the load run
# (benches/gateway/run.sh) need, pinned:
#   - kinesalite 3.3.3 and the AWS SDK for JavaScript v3's Kinesis client (package.json +
#     package-lock.json) into DIR/node, with `npm ci`;
#   - boto3/botocore, the AWS CLI v1 and cbor2 (requirements.txt) into the venv DIR/venv.
# DIR is the first argument, by default target/e2e of this repository.
# Idempotent: DIR/.installed holds a hash of package-lock.json and requirements.txt, and
# nothing is installed again while it matches (and the installed entry points exist).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${1:-$repo/target/e2e}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
# One installer at a time (two test runs may start together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.lock"
  flock 9
fi

for tool in node npm python3 sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup.sh: error: '$tool' is not on PATH (the gateway e2e tests need Node.js with npm and Python 3 with venv)" >&2
    exit 1
  fi
done

want="$(cat "$here/package-lock.json" "$here/requirements.txt" | sha256sum | cut -d' ' -f1)"
marker="$dir/.installed"
kinesalite="$dir/node/node_modules/kinesalite/cli.js"
python="$dir/venv/bin/python"
jssdk="$dir/node/node_modules/@aws-sdk/client-kinesis/package.json"
awscli="$dir/venv/bin/aws"
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && [ -f "$kinesalite" ] && [ -x "$python" ] \
  && [ -f "$jssdk" ] && [ -x "$awscli" ]; then
  echo "setup.sh: up to date in $dir"
  exit 0
fi
rm -f "$marker"

echo "setup.sh: installing kinesalite into $dir/node"
mkdir -p "$dir/node"
cp "$here/package.json" "$here/package-lock.json" "$dir/node/"
# --ignore-scripts: kinesalite's optional native leveldown is not built; kinesalite keeps its
# streams in memory (memdown) when it is started without --path, as the tests do.
npm ci --prefix "$dir/node" --ignore-scripts --no-audit --no-fund --loglevel=error

echo "setup.sh: installing boto3 into the venv $dir/venv"
if [ ! -x "$python" ]; then
  python3 -m venv "$dir/venv"
fi
"$python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
"$python" -c 'import boto3, botocore, cbor2, awscli; print("setup.sh: boto3", boto3.__version__, "botocore", botocore.__version__, "awscli", awscli.__version__)'
node -e 'console.log("setup.sh: @aws-sdk/client-kinesis", require(process.argv[1]).version)' "$jssdk"
node -e 'console.log("setup.sh: kinesalite", require(process.argv[1]).version, "on node", process.version)' "$dir/node/node_modules/kinesalite/package.json"

echo "$want" > "$marker"
echo "setup.sh: done"
