#!/usr/bin/env python3
"""The seed's scenario with the AWS CLI v1 (PyPI `awscli`, pinned in requirements.txt), as a
user runs it: `aws kinesis ... --endpoint-url URL --region us-east-1`, keys in
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, the gateway's CA in AWS_CA_BUNDLE
(given by tests/gateway_tls.rs). Driven from Python only to check each command's output.

    cli_scenario.py --gateway URL --aws PATH/TO/aws --credentials FILE

A producer writes and may not read; a partner account reads only after the owner's
PutResourcePolicy and not after DeleteResourcePolicy; a request signed with the wrong secret is
refused. Exits 1 with `FAIL: ...` on the first failed expectation.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile

REGION = "us-east-1"
ACCOUNT = "111122223333"
ADMIN = "AKIAADMIN00000000001"
PRODUCER = "AKIAPRODUCER00000001"
READER = "ASIAREADER0000000001"
STREAM = "cli-orders"
ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{STREAM}"
SHARD = "shardId-000000000000"
HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Cli:
    def __init__(self, args):
        self.aws = args.aws
        self.gateway = args.gateway
        with open(args.credentials, encoding="utf-8") as f:
            self.keys = json.load(f)["keys"]

    def run(self, key, *argv, secret=None):
        k = self.keys[key]
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret or k["secret"], AWS_MAX_ATTEMPTS="1")
        env.pop("AWS_SESSION_TOKEN", None)
        if k.get("session_token"):
            env["AWS_SESSION_TOKEN"] = k["session_token"]
        cmd = [self.aws, "kinesis", *argv, "--endpoint-url", self.gateway, "--region", REGION, "--output", "json"]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def ok(self, key, *argv):
        code, out, err = self.run(key, *argv)
        check(code == 0, f"{key} aws kinesis {argv[0]}: exit {code}: {err.strip()}")
        print(f"  {key} aws kinesis {argv[0]}: exit 0", flush=True)
        return json.loads(out) if out.strip() else {}

    def refused(self, key, code_name, *argv, contains=(), secret=None):
        code, out, err = self.run(key, *argv, secret=secret)
        check(code != 0, f"{key} aws kinesis {argv[0]}: expected {code_name}, but it succeeded: {out[:300]}")
        check(f"({code_name})" in err, f"{key} aws kinesis {argv[0]}: expected {code_name}, got exit {code}: {err.strip()}")
        for c in contains:
            check(c in err, f"{key} aws kinesis {argv[0]}: the error lacks {c!r}: {err.strip()}")
        print(f"  {key} aws kinesis {argv[0]}: exit {code}, {err.strip()}", flush=True)


def run(cli):
    producer = cli.keys[PRODUCER]["principal"]
    reader = cli.keys[READER]["principal"]
    cli.ok(ADMIN, "create-stream", "--stream-name", STREAM, "--shard-count", "1")
    s = cli.ok(ADMIN, "describe-stream-summary", "--stream-name", STREAM)["StreamDescriptionSummary"]
    check(s["StreamARN"] == ARN, f"describe-stream-summary: StreamARN {s['StreamARN']}, expected {ARN}")
    r = cli.ok(PRODUCER, "put-record", "--stream-name", STREAM, "--data", "cli-1", "--partition-key", "k1")
    check(r.get("SequenceNumber"), f"put-record: {r}")
    cli.refused(
        PRODUCER,
        "AccessDeniedException",
        "get-shard-iterator", "--stream-name", STREAM, "--shard-id", SHARD, "--shard-iterator-type", "TRIM_HORIZON",
        contains=[f"User: {producer} is not authorized to perform: kinesis:GetShardIterator on resource: {ARN}"],
    )
    read = ["--stream-arn", ARN, "--stream-name", STREAM, "--shard-id", SHARD, "--shard-iterator-type", "TRIM_HORIZON"]
    cli.refused(READER, "AccessDeniedException", "get-shard-iterator", *read, contains=[reader, ARN])

    with open(os.path.join(HERE, "policies", "orders-read.json"), encoding="utf-8") as f:
        policy = f.read().replace("stream/orders", f"stream/{STREAM}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(policy)
        policy_file = f.name
    try:
        cli.ok(ADMIN, "put-resource-policy", "--resource-arn", ARN, "--policy", f"file://{policy_file}")
    finally:
        os.unlink(policy_file)
    it = cli.ok(READER, "get-shard-iterator", *read)["ShardIterator"]
    recs = cli.ok(READER, "get-records", "--shard-iterator", it, "--stream-arn", ARN)["Records"]
    data = [base64.b64decode(r["Data"]) for r in recs]
    check(b"cli-1" in data, f"the partner read {data} after put-resource-policy, without the producer's record")
    print(f"  partner after put-resource-policy: read {data}", flush=True)
    cli.ok(ADMIN, "delete-resource-policy", "--resource-arn", ARN)
    cli.refused(READER, "AccessDeniedException", "get-shard-iterator", *read, contains=[reader])
    print("  partner after delete-resource-policy: denied", flush=True)

    cli.refused(
        PRODUCER,
        "InvalidSignatureException",
        "put-record", "--stream-name", STREAM, "--data", "x", "--partition-key", "k1",
        secret="not-the-producers-secret-0000000000000000",
    )
    print("aws cli: all expectations met")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", required=True)
    p.add_argument("--aws", required=True)
    p.add_argument("--credentials", required=True)
    args = p.parse_args()
    print(f"== AWS CLI v1 against {args.gateway}", flush=True)
    try:
        run(Cli(args))
    except Fail as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
