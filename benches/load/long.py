#!/usr/bin/env python3
"""The long load run (issue 19): many decisions through `iamc serve` and many signed Kinesis
requests through `iamc gateway` in front of kinesalite, on loopback, with every answer checked
and the servers' resident memory sampled from /proc.

Started by benches/load/run.sh, which builds the release binary, installs kinesalite and boto3
(tests/gateway/setup.sh, pinned) and starts the three servers:

    long.py --serve URL --serve-pid PID --requests FILE
            --gateway URL --gateway-pid PID --credentials FILE
            [--decisions 1000000] [--gateway-requests 200000] [--workers 2] [--time-cap 1800]

Serve: `--decisions` decisions over `--workers` keep-alive connections (one process each), a
fifth of them as single POST /v1/authorize calls and the rest as POST /v1/authorize/batch calls
of 100, cycling through the example requests. An answer is an error unless it is HTTP 200 and
every decision in it equals the one the first pass got for that request (decisions do not
change during the run).

Gateway: `--gateway-requests` requests signed with botocore's SigV4 signer, over `--workers`
keep-alive connections: PutRecord and DescribeStreamSummary by the producer (must answer 200)
and DeleteStream by the producer (must answer 400 AccessDeniedException: the store does not
allow it), in the ratio 2:2:1.

Memory: VmRSS of each server after the first tenth of its load (warm-up) and after every further
tenth; the run fails when the last sample is more than 10% above the warm-up sample. The run is
bounded: fixed counts and a time cap.
"""

import argparse
import base64
import json
import multiprocessing
import sys
import time
import urllib.parse
import http.client

REGION = "us-east-1"
PRODUCER = "AKIAPRODUCER00000001"
ADMIN = "AKIAADMIN00000000001"
STREAM = "longrun"
BATCH = 100
SLICES = 10


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for pid {pid}")


def connect(url):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.connect()
    return c


def post(conn, path, body, headers):
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


# ---- serve ----

def serve_slice(args):
    """One worker's share of one slice: (decisions, errors, first error)."""
    url, requests, expected, singles, batches, offset = args
    conn = connect(url)
    h = {"Content-Type": "application/json"}
    n, errors, first = 0, 0, None
    for i in range(singles):
        k = (offset + i) % len(requests)
        status, body = post(conn, "/v1/authorize", requests[k], h)
        n += 1
        got = json.loads(body).get("decision") if status == 200 else None
        if got != expected[k]:
            errors += 1
            first = first or f"single {k}: HTTP {status} {body[:200]!r}"
    for b in range(batches):
        ks = [(offset + b * BATCH + j) % len(requests) for j in range(BATCH)]
        payload = b'{"requests": [' + b",".join(requests[k] for k in ks) + b"]}"
        status, body = post(conn, "/v1/authorize/batch", payload, h)
        n += BATCH
        if status != 200:
            errors += BATCH
            first = first or f"batch: HTTP {status} {body[:200]!r}"
            continue
        got = [r.get("decision") for r in json.loads(body)["decisions"]]
        for k, g in zip(ks, got):
            if g != expected[k]:
                errors += 1
                first = first or f"batch item {k}: {g} != {expected[k]}"
    conn.close()
    return n, errors, first


def run_serve(args, pool):
    with open(args.requests, encoding="utf-8") as f:
        requests = [line.strip().encode() for line in f if line.strip()]
    conn = connect(args.serve)
    expected = []
    for r in requests:
        status, body = post(conn, "/v1/authorize", r, {"Content-Type": "application/json"})
        if status != 200:
            raise SystemExit(f"serve: first pass HTTP {status}: {body[:300]!r}")
        expected.append(json.loads(body)["decision"])
    conn.close()
    per_slice = args.decisions // SLICES
    per_worker = per_slice // args.workers
    singles = per_worker // 5
    batches = (per_worker - singles) // BATCH
    return run_slices("serve", args.serve_pid, args, pool, lambda s, w: (
        args.serve, requests, expected, singles, batches, (s * args.workers + w) * 7919))


# ---- gateway ----

def gateway_slice(args):
    url, secret, count, offset = args
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    creds = Credentials(PRODUCER, secret)
    conn = connect(url)
    host = urllib.parse.urlsplit(url).netloc
    n, errors, first = 0, 0, None
    for i in range(count):
        j = offset + i
        op = ("PutRecord", "DescribeStreamSummary", "PutRecord", "DescribeStreamSummary", "DeleteStream")[j % 5]
        if op == "PutRecord":
            data = base64.b64encode(f"long-{j:09d}".ljust(64, "x").encode()).decode()
            body = json.dumps({"StreamName": STREAM, "Data": data, "PartitionKey": f"pk-{j}"}).encode()
        else:
            body = json.dumps({"StreamName": STREAM}).encode()
        req = AWSRequest(method="POST", url=url + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202." + op})
        botocore.auth.SigV4Auth(creds, "kinesis", REGION).add_auth(req)
        headers = dict(req.headers.items())
        headers["Host"] = host
        status, answer = post(conn, "/", body, headers)
        n += 1
        if op == "DeleteStream":
            ok = status == 400 and b"AccessDeniedException" in answer
        else:
            ok = status == 200
        if not ok:
            errors += 1
            first = first or f"{op}: HTTP {status} {answer[:200]!r}"
    conn.close()
    return n, errors, first


def run_gateway(args, pool):
    import boto3
    import botocore
    from botocore.config import Config
    with open(args.credentials, encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    admin = boto3.session.Session().client(
        "kinesis", endpoint_url=args.gateway, region_name=REGION,
        aws_access_key_id=ADMIN, aws_secret_access_key=keys[ADMIN]["secret"],
        config=Config(retries={"total_max_attempts": 1}))
    try:
        admin.create_stream(StreamName=STREAM, ShardCount=2)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "ResourceInUseException":
            raise
    for _ in range(100):
        if admin.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    per_worker = args.gateway_requests // SLICES // args.workers
    secret = keys[PRODUCER]["secret"]
    return run_slices("gateway", args.gateway_pid, args, pool, lambda s, w: (
        args.gateway, secret, per_worker, (s * args.workers + w) * per_worker))


# ---- both ----

def run_slices(name, pid, args, pool, work):
    fn = serve_slice if name == "serve" else gateway_slice
    started = time.monotonic()
    samples = []
    total, errors, first = 0, 0, None
    for s in range(SLICES):
        if time.monotonic() - started > args.time_cap:
            raise SystemExit(f"{name}: time cap of {args.time_cap:.0f} s reached after {total}")
        for n, e, f in pool.map(fn, [work(s, w) for w in range(args.workers)]):
            total += n
            errors += e
            first = first or f
        samples.append(rss_kib(pid))
        print(f"{name}: slice {s + 1}/{SLICES}: {total} done, {errors} errors, "
              f"RSS {samples[-1]} KiB, {time.monotonic() - started:.1f} s", file=sys.stderr)
    wall = time.monotonic() - started
    return {"name": name, "count": total, "errors": errors, "first_error": first,
            "seconds": round(wall, 1), "per_second": round(total / wall),
            "rss_warm_kib": samples[0], "rss_max_kib": max(samples), "rss_end_kib": samples[-1],
            "rss_samples_kib": samples}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--serve", required=True)
    p.add_argument("--serve-pid", type=int, required=True)
    p.add_argument("--requests", required=True)
    p.add_argument("--gateway", required=True)
    p.add_argument("--gateway-pid", type=int, required=True)
    p.add_argument("--credentials", required=True)
    p.add_argument("--decisions", type=int, default=1_000_000)
    p.add_argument("--gateway-requests", type=int, default=200_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--time-cap", type=float, default=1800.0, help="seconds per server")
    args = p.parse_args()
    results = []
    with multiprocessing.Pool(args.workers) as pool:
        results.append(run_serve(args, pool))
        results.append(run_gateway(args, pool))
    failed = False
    for r in results:
        growth = (r["rss_end_kib"] - r["rss_warm_kib"]) / r["rss_warm_kib"] * 100
        r["rss_growth_percent"] = round(growth, 1)
        print(json.dumps({k: v for k, v in r.items()}))
        if r["errors"]:
            print(f"{r['name']}: {r['errors']} errors; first: {r['first_error']}", file=sys.stderr)
            failed = True
        if growth > 10:
            print(f"{r['name']}: resident memory grew {growth:.1f}% after warm-up", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
