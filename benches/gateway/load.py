#!/usr/bin/env python3
"""The gateway's added latency: the same SigV4-signed Kinesis requests sent straight to
kinesalite and through `iamc gateway`, on loopback.

Started by benches/gateway/run.sh (which builds the release gateway, installs kinesalite and
boto3 with tests/gateway/setup.sh, and starts both servers):

    load.py --gateway URL --upstream URL --credentials FILE [--requests 5000] [--rounds 10]
            [--time-cap 240] [--write BENCHMARKS.md --command "..."]

Method. Requests are signed with botocore's own signer (botocore.auth.SigV4Auth) for the
producer of tests/gateway/credentials.json, for the gateway's host; kinesalite does not check
signatures, so the identical bytes (Host header included) go to both. `--requests` PutRecord and
`--requests` DescribeStreamSummary requests (alternating) are split into `--rounds` rounds; each
round is signed just before it is sent (signatures stay valid for minutes, a round takes
seconds) and sent over one keep-alive http.client connection per path, first to one path and
then the other, alternating which goes first from round to round. Latency is per request,
from writing the request to reading the whole answer, on the client (the client, kinesalite
and the gateway share the machine's cores). Every answer must be HTTP 200. The run is bounded:
a fixed number of requests and a time cap.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import time
import urllib.parse

import boto3
import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "us-east-1"
PRODUCER = "AKIAPRODUCER00000001"
ADMIN = "AKIAADMIN00000000001"
STREAM = "bench"
OPS = ("PutRecord", "DescribeStreamSummary")
BEGIN = "<!-- gateway: begin -->"
END = "<!-- gateway: end -->"


def body_of(op, i):
    if op == "PutRecord":
        # 100 bytes of data, base64 in the JSON body; partition keys spread over the hash range.
        data = f"record-{i:08d}-".ljust(100, "x").encode()
        return json.dumps({"StreamName": STREAM, "Data": base64.b64encode(data).decode(), "PartitionKey": f"pk-{i}"}).encode()
    return json.dumps({"StreamName": STREAM}).encode()


def sign(creds, host_url, op, body):
    req = AWSRequest(
        method="POST",
        url=host_url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202." + op},
    )
    botocore.auth.SigV4Auth(creds, "kinesis", REGION).add_auth(req)
    headers = dict(req.headers.items())
    headers["Host"] = urllib.parse.urlsplit(host_url).netloc
    headers["Content-Length"] = str(len(body))
    return headers


class Path:
    def __init__(self, name, url):
        self.name = name
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        # https (run.sh --tls): one TLS session per connection, trusting AWS_CA_BUNDLE.
        self.tls = u.scheme == "https"
        self.conn = None
        self.lat = {op: [] for op in OPS}
        self.by_index = {}

    def connect(self):
        if self.tls:
            ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
            self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=30, context=ctx)
        else:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.conn.connect()

    def send(self, op, body, headers, index=None):
        if self.conn is None:
            self.connect()
        t0 = time.perf_counter_ns()
        self.conn.request("POST", "/", body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        dt = time.perf_counter_ns() - t0
        if resp.status != 200:
            raise SystemExit(f"{self.name} {op}: HTTP {resp.status}: {data[:300]!r}")
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        self.lat[op].append(dt)
        if index is not None:
            self.by_index[index] = (op, dt)


def pct(xs, p):
    """The p-th percentile (nearest rank) of xs, in ns."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def ms(ns):
    return f"{ns / 1e6:.3f} ms"


def summary(xs):
    return {"n": len(xs), "p50": pct(xs, 50), "p99": pct(xs, 99), "mean": statistics.fmean(xs)}


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def nproc():
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


def table(direct, gateway):
    rows = [
        "| requests | path | count | p50 | p99 | mean |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    added = [
        "| requests | added p50 | added p99 | added mean |",
        "| --- | ---: | ---: | ---: |",
    ]
    paired = [
        "| requests | pairs | p50 | p99 | mean |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    groups = [(op, [op]) for op in OPS] + [("all", list(OPS))]
    for label, ops in groups:
        d = summary([x for op in ops for x in direct.lat[op]])
        g = summary([x for op in ops for x in gateway.lat[op]])
        rows.append(f"| {label} | kinesalite direct | {d['n']} | {ms(d['p50'])} | {ms(d['p99'])} | {ms(d['mean'])} |")
        rows.append(f"| {label} | through the gateway | {g['n']} | {ms(g['p50'])} | {ms(g['p99'])} | {ms(g['mean'])} |")
        added.append(
            f"| {label} | {ms(g['p50'] - d['p50'])} | {ms(g['p99'] - d['p99'])} | {ms(g['mean'] - d['mean'])} |"
        )
        diffs = [
            gateway.by_index[i][1] - dt
            for i, (op, dt) in direct.by_index.items()
            if op in ops and i in gateway.by_index
        ]
        p = summary(diffs)
        paired.append(f"| {label} | {p['n']} | {ms(p['p50'])} | {ms(p['p99'])} | {ms(p['mean'])} |")
    return "\n".join(rows), "\n".join(added), "\n".join(paired)


def write_section(path, section):
    """Replaces the text between the markers, or appends the section at the end of the file;
    every other byte stays as it was."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    block = f"{BEGIN}\n{section.rstrip()}\n{END}"
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        i, j = text.index(BEGIN), text.index(END) + len(END)
        out = text[:i] + block + text[j:]
    else:
        # A blank line before the section; the text before it stays as it was.
        sep = "\n" if text.endswith("\n") else "\n\n"
        out = text + sep + block + "\n"
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(out)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--credentials", required=True)
    p.add_argument("--requests", type=int, default=5000, help="requests of each operation (default 5000)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--time-cap", type=float, default=240.0, help="seconds; the run stops after the round that passes it")
    p.add_argument("--warmup", type=int, default=200, help="requests per path not timed, first")
    p.add_argument("--write", help="BENCHMARKS.md to write the section into")
    p.add_argument("--command", default="benches/gateway/run.sh", help="the command line to name in the section")
    p.add_argument("--gateway-version", default="", help="what the gateway binary is, for the section")
    args = p.parse_args()

    with open(args.credentials, encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    creds = Credentials(PRODUCER, keys[PRODUCER]["secret"])

    # The stream, made through the gateway by the admin.
    admin = boto3.session.Session().client(
        "kinesis",
        endpoint_url=args.gateway,
        region_name=REGION,
        aws_access_key_id=ADMIN,
        aws_secret_access_key=keys[ADMIN]["secret"],
        config=Config(retries={"total_max_attempts": 1}),
    )
    try:
        admin.create_stream(StreamName=STREAM, ShardCount=4)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "ResourceInUseException":
            raise
    for _ in range(100):
        if admin.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)

    direct, gateway = Path("kinesalite direct", args.upstream), Path("through the gateway", args.gateway)
    # Warm-up, not timed: connections, caches, the JIT of kinesalite.
    for i in range(args.warmup):
        op = OPS[i % 2]
        body = body_of(op, 10_000_000 + i)
        h = sign(creds, args.gateway, op, body)
        direct.send(op, body, h)
        gateway.send(op, body, h)
    for path in (direct, gateway):
        path.lat = {op: [] for op in OPS}
        path.by_index = {}

    total = 2 * args.requests
    per_round = -(-total // args.rounds)
    started = time.monotonic()
    sent = 0
    capped = False
    r = 0
    while sent < total:
        if time.monotonic() - started > args.time_cap:
            capped = True
            print(f"time cap of {args.time_cap:.0f} s reached after {sent} requests per path", file=sys.stderr)
            break
        n = min(per_round, total - sent)
        batch = []
        for i in range(sent, sent + n):
            op = OPS[i % 2]
            body = body_of(op, i)
            batch.append((op, body, sign(creds, args.gateway, op, body)))
        order = (direct, gateway) if r % 2 == 0 else (gateway, direct)
        for path in order:
            for j, (op, body, h) in enumerate(batch):
                path.send(op, body, h, sent + j)
        sent += n
        r += 1
        print(f"round {r}: {sent}/{total} requests per path, {time.monotonic() - started:.1f} s", file=sys.stderr)
    elapsed = time.monotonic() - started

    rows, added, paired = table(direct, gateway)
    now = datetime.datetime.now(datetime.timezone.utc)
    section = f"""## Gateway: added latency

`{args.command}`, {now:%Y-%m-%d}. Machine: {nproc()} cores (`nproc`), {cpu_model()} (`/proc/cpuinfo`); \
kinesalite 3.3.3 on Node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip() or '?'}, \
boto3/botocore {botocore.__version__}, Python {platform.python_version()}{args.gateway_version}.

The same SigV4-signed requests (botocore's `SigV4Auth`, the producer of
`tests/gateway/credentials.json`) go straight to kinesalite and through `iamc gateway`
(release build, `tests/gateway/store.json`) in front of the same kinesalite, on 127.0.0.1:
{args.requests} `PutRecord` (100-byte records) and {args.requests} `DescribeStreamSummary`,
alternating, on stream `{STREAM}` (4 shards). Each path has one keep-alive HTTP/1.1
connection (`http.client`); the requests go in {r} rounds, each round to both paths, which
goes first alternating, after {args.warmup} untimed requests per path. Latency is per request
on the client, from sending to reading the whole answer; every answer was HTTP 200.
{'The run hit its time cap; the counts below are what was sent. ' if capped else ''}\
It took {elapsed:.1f} s. The client, kinesalite and the gateway share the cores, so the
figures include that contention; the added latency (gateway minus direct) is what the gateway
costs on top of the upstream here: SigV4 verification, the policy decision, the ARN rewriting
and the extra loopback hop.

{rows}

Added by the gateway, per statistic (the gateway's p50 minus the direct p50, and so on):

{added}

Added by the gateway, per request (each request's time through the gateway minus the same
request's time direct, then the percentiles of those differences):

{paired}

The p99 rows are noisy: the slowest requests come from pauses that hit either path (kinesalite's
own, the client's, other work on the shared cores), so a difference of p99s can even come out
negative. The p50 and mean rows are steady from run to run.
"""
    print(section)
    if args.write:
        write_section(args.write, section)
        print(f"wrote the section into {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
