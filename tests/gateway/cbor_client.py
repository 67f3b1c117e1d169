#!/usr/bin/env python3
"""The CBOR protocol through `iamc gateway`, driven by tests/gateway_tls.rs.

The AWS SDK for Java v2 and the Kinesis Client Library speak CBOR by default, but the Java SDK is
not on the registries the tests install from. This client sends what it sends: `POST /` with
`Content-Type: application/x-amz-cbor-1.1`, `X-Amz-Target: Kinesis_20131202.<Operation>`, the
body encoded with cbor2 (blobs as byte strings, timestamps as tag 1), signed with botocore's
SigV4 signer (the one boto3 uses). kinesalite (the upstream) speaks CBOR too, so allowed calls
run end to end; denials must come back from the gateway in CBOR, `{"__type", "message"}`.

    cbor_client.py --gateway URL --upstream URL --credentials FILE

The CA of an https gateway is read from AWS_CA_BUNDLE. Prints what it saw; exits 1 with
`FAIL: ...` on the first failed expectation.
"""

import argparse
import datetime
import http.client
import json
import os
import ssl
import sys
import urllib.parse

import cbor2
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
ACCOUNT = "111122223333"
UPSTREAM_ACCOUNT = "000000000000"
CBOR = "application/x-amz-cbor-1.1"
TARGET_PREFIX = "Kinesis_20131202."
ADMIN = "AKIAADMIN00000000001"
PRODUCER = "AKIAPRODUCER00000001"
READER = "ASIAREADER0000000001"
STREAM = "cbor-orders"
ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{STREAM}"
SHARD = "shardId-000000000000"
HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def log(msg):
    print(f"  {msg}", flush=True)


class Client:
    def __init__(self, gateway, keys, key):
        self.url = gateway
        self.key = key
        k = keys[key]
        self.creds = Credentials(key, k["secret"], k.get("session_token"))
        self.principal = k["principal"]

    def send(self, operation, body, *, tamper=None, raw=None):
        """POSTs `body` (a dict, CBOR-encoded; or `raw` bytes as they are), signed. Returns
        (status, content type, decoded body or None, raw body)."""
        data = raw if raw is not None else cbor2.dumps(body)
        req = AWSRequest(
            method="POST",
            url=self.url + "/",
            data=data,
            headers={"Content-Type": CBOR, "X-Amz-Target": TARGET_PREFIX + operation},
        )
        botocore.auth.SigV4Auth(self.creds, "kinesis", REGION).add_auth(req)
        headers = dict(req.headers.items())
        if tamper:
            tamper(headers)
        u = urllib.parse.urlparse(self.url)
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ctx)
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request("POST", "/", body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            ctype = resp.getheader("Content-Type", "")
        finally:
            conn.close()
        decoded = None
        if payload:
            check(ctype == CBOR, f"{operation}: the answer's Content-Type is {ctype!r}, expected {CBOR}: {payload[:200]!r}")
            try:
                decoded = cbor2.loads(payload)
            except Exception as e:  # noqa: BLE001 - any decoding error fails the check
                raise Fail(f"{operation}: the answer is not CBOR ({e}): {payload[:200]!r}")
        return resp.status, ctype, decoded, payload

    def ok(self, operation, body):
        status, _, doc, _ = self.send(operation, body)
        check(status == 200, f"{self.key} {operation}: expected 200, got {status}: {doc}")
        check(f":{UPSTREAM_ACCOUNT}:" not in repr(doc), f"{operation}: an ARN of the upstream's account reached the client: {doc}")
        return doc or {}

    def error(self, operation, body, code, contains=(), **kw):
        status, _, doc, payload = self.send(operation, body, **kw)
        check(status == 400, f"{self.key} {operation}: expected HTTP 400 {code}, got {status}: {doc or payload[:200]!r}")
        check(isinstance(doc, dict) and set(doc) >= {"__type", "message"}, f"{operation}: the error is not a CBOR map with __type and message: {doc}")
        got = doc["__type"].split("#")[-1]
        check(got == code, f"{self.key} {operation}: expected {code}, got {got}: {doc['message']!r}")
        for c in contains:
            check(c in doc["message"], f"{operation}: the {code} message lacks {c!r}: {doc['message']!r}")
        log(f"{self.key} {operation}: HTTP 400, CBOR {{__type: {got}, message: {doc['message']!r}}}")
        return doc["message"]


def recent(t):
    """A timestamp as the upstream encodes it (a tag-1 datetime, or epoch seconds) within an hour
    of now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if isinstance(t, datetime.datetime):
        return abs((now - t).total_seconds()) < 3600
    return isinstance(t, (int, float)) and abs(now.timestamp() - t) < 3600


def data_of(record):
    """A record's Data: a CBOR byte string, or kinesalite 3.3.3's own encoding of its stored
    Node.js Buffer in CBOR answers, {"type": "Buffer", "data": [bytes]} (a kinesalite quirk, the
    same with or without the gateway, which passes the answer on unchanged)."""
    d = record["Data"]
    if isinstance(d, dict) and d.get("type") == "Buffer":
        return bytes(d["data"])
    return d


def upstream_cbor(upstream, keys, operation, body):
    """The upstream's own CBOR answer (kinesalite wants a signature, and checks none)."""
    status, _, doc, payload = Client(upstream, keys, ADMIN).send(operation, body)
    check(status == 200, f"upstream {operation}: {status} {payload[:200]!r}")
    return doc


def run(args):
    with open(args.credentials, encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    admin = Client(args.gateway, keys, ADMIN)
    producer = Client(args.gateway, keys, PRODUCER)
    reader = Client(args.gateway, keys, READER)

    admin.ok("CreateStream", {"StreamName": STREAM, "ShardCount": 1})
    s = admin.ok("DescribeStreamSummary", {"StreamName": STREAM})["StreamDescriptionSummary"]
    check(s["StreamARN"] == ARN, f"DescribeStreamSummary in CBOR: StreamARN {s['StreamARN']}, expected {ARN} (rewritten in the CBOR answer)")
    # The answer's ARNs were rewritten (the item re-encoded): its timestamp must be the upstream's
    # own, as it encoded it (kinesalite: a plain number of epoch seconds; real Kinesis: tag 1).
    created = s["StreamCreationTimestamp"]
    direct = upstream_cbor(args.upstream, keys, "DescribeStreamSummary", {"StreamName": STREAM})["StreamDescriptionSummary"]
    check(created == direct["StreamCreationTimestamp"] and type(created) is type(direct["StreamCreationTimestamp"]),
          f"StreamCreationTimestamp {created!r} through the gateway, {direct['StreamCreationTimestamp']!r} from the upstream")
    check(recent(created), f"StreamCreationTimestamp {created!r} is not now")
    log(f"admin CreateStream + DescribeStreamSummary {STREAM} in CBOR: StreamARN {s['StreamARN']} (upstream: {direct['StreamARN']}), StreamCreationTimestamp {created!r} as the upstream encoded it")

    payload = bytes(range(256))
    r = producer.ok("PutRecord", {"StreamName": STREAM, "Data": payload, "PartitionKey": "k1"})
    check(r.get("SequenceNumber"), f"producer PutRecord in CBOR: no SequenceNumber in {r}")
    log(f"producer PutRecord {STREAM} in CBOR (256 binary bytes): allowed, SequenceNumber {r['SequenceNumber']}")
    producer.error(
        "GetShardIterator",
        {"StreamName": STREAM, "ShardId": SHARD, "ShardIteratorType": "TRIM_HORIZON"},
        "AccessDeniedException",
        contains=[f"User: {producer.principal} is not authorized to perform: kinesis:GetShardIterator on resource: {ARN}"],
    )

    trim = {"StreamName": STREAM, "ShardId": SHARD, "ShardIteratorType": "TRIM_HORIZON"}
    it = admin.ok("GetShardIterator", trim)["ShardIterator"]
    # The gateway seals the upstream's iterator (stateless iterators, tests/fleet.rs), in CBOR too.
    check(it.startswith("i1."), f"GetShardIterator in CBOR: the iterator is not sealed: {it[:40]!r}")
    status, _, _, through = admin.send("GetRecords", {"ShardIterator": it, "StreamARN": ARN})
    check(status == 200, f"admin GetRecords in CBOR: HTTP {status}: {through[:200]!r}")
    check(cbor2.loads(through)["NextShardIterator"].startswith("i1."), "GetRecords in CBOR: NextShardIterator is not sealed")
    # An iterator of kinesalite's own straight to kinesalite: the same records, decoded the same
    # (only NextShardIterator and MillisBehindLatest change from one call to the next).
    upstream = Client(args.upstream, keys, ADMIN)
    _, _, up_it, _ = upstream.send("GetShardIterator", trim)
    _, _, direct, _ = upstream.send("GetRecords", {"ShardIterator": up_it["ShardIterator"], "StreamName": STREAM})
    recs = cbor2.loads(through)["Records"]
    check(recs == direct["Records"], f"GetRecords: the records through the gateway differ from the upstream's: {recs!r} / {direct['Records']!r}")
    check(recs and data_of(recs[0]) == payload, f"admin GetRecords in CBOR: {recs!r}, expected the producer's 256 bytes")
    check(recent(recs[0]["ApproximateArrivalTimestamp"]), f"ApproximateArrivalTimestamp {recs[0]['ApproximateArrivalTimestamp']!r}")
    log(f"admin GetShardIterator + GetRecords in CBOR: the records as the upstream answers them, the 256 bytes back, ApproximateArrivalTimestamp {recs[0]['ApproximateArrivalTimestamp']!r}")

    read = {"StreamARN": ARN, "StreamName": STREAM, "ShardId": SHARD, "ShardIteratorType": "TRIM_HORIZON"}
    reader.error("GetShardIterator", read, "AccessDeniedException", contains=[reader.principal, "kinesis:GetShardIterator", ARN])
    with open(os.path.join(HERE, "policies", "orders-read.json"), encoding="utf-8") as f:
        policy = f.read().replace("stream/orders", f"stream/{STREAM}")
    admin.ok("PutResourcePolicy", {"ResourceARN": ARN, "Policy": policy})
    got = admin.ok("GetResourcePolicy", {"ResourceARN": ARN})
    check(json.loads(got["Policy"]) == json.loads(policy), f"GetResourcePolicy in CBOR: {got}")
    it = reader.ok("GetShardIterator", read)["ShardIterator"]
    recs = reader.ok("GetRecords", {"ShardIterator": it, "StreamARN": ARN})["Records"]
    check(recs and data_of(recs[0]) == payload, f"reader GetRecords after PutResourcePolicy: {recs!r}")
    log("partner reader after PutResourcePolicy (CBOR): GetShardIterator + GetRecords allowed, the 256 bytes read")
    admin.ok("DeleteResourcePolicy", {"ResourceARN": ARN})
    reader.error("GetShardIterator", read, "AccessDeniedException", contains=[reader.principal, ARN])
    log("partner reader after DeleteResourcePolicy (CBOR): denied again")

    put = {"StreamName": STREAM, "Data": b"tampered", "PartitionKey": "k1"}

    def flip(headers):
        auth = headers["Authorization"]
        headers["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")

    producer.error("PutRecord", put, "InvalidSignatureException", tamper=flip)
    producer.error("PutRecord", None, "SerializationException", raw=cbor2.dumps(put)[:-3])
    # Two StreamName keys: JSON-style readers keep the last, others the first. Never forwarded.
    twice = b"\xa3" + cbor2.dumps("StreamName")[0:] + cbor2.dumps(STREAM) + cbor2.dumps("StreamName") + cbor2.dumps("secret") + cbor2.dumps("PartitionKey") + cbor2.dumps("k")
    producer.error("PutRecord", None, "SerializationException", contains=["twice"], raw=twice)
    producer.error("PutRecord", None, "SerializationException", raw=json.dumps({"StreamName": STREAM}).encode())
    print("cbor: all expectations met")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", required=True)
    p.add_argument("--credentials", required=True)
    p.add_argument("--upstream", required=True, help="kinesalite's URL, to compare answers with")
    args = p.parse_args()
    print(f"== cbor client against {args.gateway}", flush=True)
    try:
        run(args)
    except Fail as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
