#!/usr/bin/env python3
"""End-to-end scenarios for `iamc gateway`, driven by tests/gateway_e2e.rs.

Each scenario uses real boto3 clients (endpoint_url = the gateway, keys from the credentials
file) against a gateway in front of kinesalite, checks every answer, prints what it saw, and
exits non-zero with a line `FAIL: ...` on the first failed expectation.

    scenarios.py SCENARIO --gateway URL --upstream URL --credentials FILE [options]

Run `scenarios.py --help` for the list. The scenarios run in the order the Rust test gives;
later ones rely on the streams and policies the earlier ones made.
"""

import argparse
import datetime
import http.client
import json
import os
import ssl
import sys
import time
import types
import urllib.parse
from contextlib import contextmanager
from unittest import mock

import boto3
import botocore
import botocore.auth
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "111122223333"
UPSTREAM_ACCOUNT = "000000000000"
PARTNER = "210987654321"
TARGET_PREFIX = "Kinesis_20131202."

ADMIN = "AKIAADMIN00000000001"
PRODUCER = "AKIAPRODUCER00000001"
TAGGED = "AKIATAGGED0000000001"
READER = "ASIAREADER0000000001"
READER_LIMITED = "ASIAREADERLIMITED001"
# Added to the credentials file (for the admin) by the reload scenario (tests/gateway_e2e.rs).
LATE = "AKIALATE000000000001"


def stream_arn(name, account=ACCOUNT):
    return f"arn:aws:kinesis:{REGION}:{account}:stream/{name}"


ORDERS = stream_arn("orders")
CONSUMER = ORDERS + "/consumer/fanout:1700000000"
SHARD = "shardId-000000000000"
HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def log(msg):
    print(f"  {msg}", flush=True)


class Env:
    def __init__(self, args):
        self.gateway = args.gateway
        self.upstream = args.upstream
        with open(args.credentials, encoding="utf-8") as f:
            self.keys = json.load(f)["keys"]
        self.args = args

    def principal(self, key):
        return self.keys[key]["principal"]

    def creds(self, key):
        k = self.keys[key]
        return Credentials(key, k["secret"], k.get("session_token"))

    def client(self, key=None, *, endpoint=None, unsigned=False, secret=None):
        """A boto3 Kinesis client signing with `key` from the credentials file."""
        cfg = Config(
            region_name=REGION,
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
            signature_version=UNSIGNED if unsigned else None,
        )
        kw = {}
        if not unsigned:
            if key in self.keys:
                k = self.keys[key]
                kw = dict(
                    aws_access_key_id=key,
                    aws_secret_access_key=secret or k["secret"],
                    aws_session_token=k.get("session_token"),
                )
            else:
                kw = dict(aws_access_key_id=key, aws_secret_access_key=secret or "x" * 40)
        return boto3.session.Session().client(
            "kinesis", endpoint_url=endpoint or self.gateway, config=cfg, **kw
        )


def call(what, fn, **kw):
    """Calls `fn(**kw)`, expecting success; returns the response without its metadata."""
    try:
        r = fn(**kw)
    except ClientError as e:
        err = e.response.get("Error", {})
        raise Fail(f"{what}: expected success, got {err.get('Code')}: {err.get('Message')!r}")
    r.pop("ResponseMetadata", None)
    leaked = f":{UPSTREAM_ACCOUNT}:"
    check(leaked not in repr(r), f"{what}: an ARN of the upstream's account {UPSTREAM_ACCOUNT} reached the client: {short(r)}")
    return r


def expect_error(what, code, fn, contains=(), startswith=None, **kw):
    """Calls `fn(**kw)`, expecting a ClientError with `code` (or one of the codes of a tuple);
    returns its message."""
    codes = code if isinstance(code, tuple) else (code,)
    code = " or ".join(codes)
    try:
        r = fn(**kw)
    except ClientError as e:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        got, msg = err.get("Code"), err.get("Message") or ""
        check(got in codes, f"{what}: expected {code}, got {got} (HTTP {status}): {msg!r}")
        code = got
        check(status == 400, f"{what}: expected HTTP 400 for {code}, got HTTP {status}")
        check(
            UPSTREAM_ACCOUNT not in msg,
            f"{what}: the upstream's account {UPSTREAM_ACCOUNT} reached the client in the {code} message "
            f"(clients must only ever see {ACCOUNT}): {msg!r}",
        )
        for c in contains:
            check(c.lower() in msg.lower(), f"{what}: the {code} message lacks {c!r}: {msg!r}")
        if startswith is not None:
            check(msg.startswith(startswith), f"{what}: the {code} message does not start with {startswith!r}: {msg!r}")
        log(f"{what}: {code}: {msg}")
        return msg
    r.pop("ResponseMetadata", None)
    raise Fail(f"{what}: expected {code}, but the call succeeded: {short(r)}")


def short(obj, n=300):
    s = repr(obj)
    return s if len(s) <= n else s[:n] + "..."


def denied_message(principal, action, resource):
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource}"


def policy_text(name):
    with open(os.path.join(HERE, "policies", name), encoding="utf-8") as f:
        return f.read()


def wait_active(client, name, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        s = call(f"DescribeStreamSummary {name}", client.describe_stream_summary, StreamName=name)
        status = s["StreamDescriptionSummary"]["StreamStatus"]
        if status == "ACTIVE":
            return s["StreamDescriptionSummary"]
        check(time.monotonic() < end, f"stream {name} not ACTIVE after {timeout}s (status {status})")
        time.sleep(0.1)


def create_stream(client, name, **kw):
    call(f"admin CreateStream {name}", client.create_stream, StreamName=name, ShardCount=1, **kw)
    summary = wait_active(client, name)
    log(f"admin CreateStream {name}: ACTIVE, StreamARN {summary['StreamARN']}")
    return summary


def read_all(client, what, **stream):
    """GetShardIterator (TRIM_HORIZON) then GetRecords until empty; returns the data seen."""
    it = call(
        f"{what} GetShardIterator",
        client.get_shard_iterator,
        ShardId=SHARD,
        ShardIteratorType="TRIM_HORIZON",
        **stream,
    )["ShardIterator"]
    # GetRecords names its stream by StreamARN (the gateway authorizes against it); callers of
    # the gateway's own account may give the StreamName alone.
    arn = {"StreamARN": stream.get("StreamARN") or stream_arn(stream["StreamName"])}
    data = []
    for _ in range(5):
        r = call(f"{what} GetRecords", client.get_records, ShardIterator=it, Limit=1000, **arn)
        data.extend(rec["Data"] for rec in r["Records"])
        it = r.get("NextShardIterator")
        if not r["Records"] or not it:
            break
    return data


def same_policy(got_text, want_text, what):
    try:
        got = json.loads(got_text)
    except ValueError:
        raise Fail(f"{what}: the Policy is not JSON: {got_text!r}")
    check(got == json.loads(want_text), f"{what}: the Policy differs from the one put: {got_text!r}")


# --- a: producer and admin on the account's own stream -------------------------------------


def scenario_a(env):
    """admin creates `orders`; producer writes; producer reads are denied, naming the request."""
    admin, producer = env.client(ADMIN), env.client(PRODUCER)
    summary = create_stream(admin, "orders")
    check(summary["StreamARN"] == ORDERS, f"the gateway answered StreamARN {summary['StreamARN']}, expected {ORDERS} (rewritten back from the upstream account)")
    direct = env.client(ADMIN, endpoint=env.upstream)
    up = direct.describe_stream_summary(StreamName="orders")  # straight to kinesalite
    up_arn = up["StreamDescriptionSummary"]["StreamARN"]
    check(up_arn == stream_arn("orders", UPSTREAM_ACCOUNT), f"kinesalite holds the stream as {up_arn}")
    log(f"kinesalite itself holds it as {up_arn}: the gateway rewrote the account both ways")

    r = call("producer PutRecord orders", producer.put_record, StreamName="orders", Data=b"order-1", PartitionKey="k1")
    check(r.get("SequenceNumber"), f"producer PutRecord: no SequenceNumber in {r}")
    log(f"producer PutRecord orders: allowed, SequenceNumber {r['SequenceNumber']} on {r['ShardId']}")
    r = call(
        "producer PutRecords orders",
        producer.put_records,
        StreamName="orders",
        Records=[{"Data": b"order-2", "PartitionKey": "k2"}, {"Data": b"order-3", "PartitionKey": "k3"}],
    )
    check(r.get("FailedRecordCount") == 0 and len(r["Records"]) == 2, f"producer PutRecords: {r}")
    log("producer PutRecords orders: allowed, 2 records, 0 failed")
    s = call("producer DescribeStreamSummary", producer.describe_stream_summary, StreamName="orders")
    check(s["StreamDescriptionSummary"]["StreamARN"] == ORDERS, f"producer saw StreamARN {s['StreamDescriptionSummary']['StreamARN']}")
    log("producer DescribeStreamSummary orders: allowed")

    me = env.principal(PRODUCER)
    expect_error(
        "producer GetShardIterator orders",
        "AccessDeniedException",
        producer.get_shard_iterator,
        startswith=denied_message(me, "kinesis:GetShardIterator", ORDERS),
        contains=["no identity-based policy allows"],
        StreamName="orders",
        ShardId=SHARD,
        ShardIteratorType="TRIM_HORIZON",
    )
    it = call("admin GetShardIterator orders", admin.get_shard_iterator, StreamName="orders", ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    expect_error(
        "producer GetRecords orders",
        "AccessDeniedException",
        producer.get_records,
        startswith=denied_message(me, "kinesis:GetRecords", ORDERS),
        contains=["because no identity-based policy allows the kinesis:GetRecords action"],
        ShardIterator=it,
        StreamARN=ORDERS,
    )
    expect_error(
        "producer DeleteStream orders",
        "AccessDeniedException",
        producer.delete_stream,
        contains=[me, "kinesis:DeleteStream", ORDERS],
        StreamName="orders",
    )
    data = read_all(admin, "admin", StreamName="orders")
    check(data[:3] == [b"order-1", b"order-2", b"order-3"], f"admin read {data}, expected the producer's 3 records")
    log(f"admin reads orders: {data}")


# --- b: cross-account reads through a stream resource policy ----------------------------------


def reader_iterator_denied(env, reader, what):
    me = env.principal(READER)
    return expect_error(
        what,
        "AccessDeniedException",
        reader.get_shard_iterator,
        startswith=denied_message(me, "kinesis:GetShardIterator", ORDERS),
        StreamARN=ORDERS,
        ShardId=SHARD,
        ShardIteratorType="TRIM_HORIZON",
    )


def reader_reads(env, reader, what):
    """The reader is allowed on `orders` by ARN and sees the producer's first record."""
    # StreamARN alone: allowed by the gateway. kinesalite 3.3.3 predates StreamARN (it needs
    # StreamName), so it either serves the call or answers its own ValidationException; both
    # prove the request got past the gateway's authorization.
    try:
        r = reader.get_shard_iterator(StreamARN=ORDERS, ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")
        check(r.get("ShardIterator"), f"{what}: GetShardIterator by StreamARN: no ShardIterator")
        log(f"{what} GetShardIterator by StreamARN only: allowed, served")
    except ClientError as e:
        err = e.response["Error"]
        check(
            err.get("Code") == "ValidationException" and "streamName" in (err.get("Message") or ""),
            f"{what} GetShardIterator by StreamARN only: expected success or kinesalite's ValidationException on streamName, got {err}",
        )
        log(f"{what} GetShardIterator by StreamARN only: allowed by the gateway, kinesalite says {err['Code']}: {err['Message']}")
    # StreamARN (what the gateway authorizes) with StreamName (what kinesalite reads).
    data = read_all(reader, what, StreamARN=ORDERS, StreamName="orders")
    check(b"order-1" in data, f"{what}: the reader read {data}, without the producer's record order-1")
    log(f"{what} GetShardIterator + GetRecords by StreamARN: allowed, read {data}")
    s = call(f"{what} DescribeStreamSummary", reader.describe_stream_summary, StreamARN=ORDERS, StreamName="orders")
    check(s["StreamDescriptionSummary"]["StreamARN"] == ORDERS, f"{what}: the reader saw StreamARN {s['StreamDescriptionSummary']['StreamARN']}")


def scenario_b(env):
    admin, reader = env.client(ADMIN), env.client(READER)
    limited = env.client(READER_LIMITED)
    me = env.principal(READER)
    read_policy = policy_text("orders-read.json")

    reader_iterator_denied(env, reader, "reader GetShardIterator orders, no resource policy")
    # By StreamName the stream is the caller's own account's (210987654321), which the reader
    # may not read and which this gateway does not serve: either answer names that ARN.
    expect_error(
        "reader GetShardIterator by StreamName",
        ("AccessDeniedException", "ResourceNotFoundException"),
        reader.get_shard_iterator,
        contains=[stream_arn("orders", PARTNER)],
        StreamName="orders",
        ShardId=SHARD,
        ShardIteratorType="TRIM_HORIZON",
    )
    got = call("admin GetResourcePolicy orders (none yet)", admin.get_resource_policy, ResourceARN=ORDERS)
    check(json.loads(got["Policy"]) == {}, f"GetResourcePolicy with no policy: expected {{}}, got {got['Policy']!r}")
    log("admin GetResourcePolicy orders: {} (none yet)")

    call("admin PutResourcePolicy orders", admin.put_resource_policy, ResourceARN=ORDERS, Policy=read_policy)
    log("admin PutResourcePolicy orders (the seed's shared-throughput read policy): accepted")
    got = call("admin GetResourcePolicy orders", admin.get_resource_policy, ResourceARN=ORDERS)
    same_policy(got["Policy"], read_policy, "admin GetResourcePolicy orders")
    log("admin GetResourcePolicy orders: the policy put")

    reader_reads(env, reader, "reader")

    # Only principals of the stream's account manage its policy.
    expect_error(
        "reader PutResourcePolicy orders",
        "AccessDeniedException",
        reader.put_resource_policy,
        contains=[me, "kinesis:PutResourcePolicy", ORDERS],
        ResourceARN=ORDERS,
        Policy=policy_text("invalid-action-wildcard.json").replace('"kinesis:*"', '["kinesis:GetRecords"]'),
    )
    expect_error(
        "reader DeleteResourcePolicy orders",
        "AccessDeniedException",
        reader.delete_resource_policy,
        contains=[me, "kinesis:DeleteResourcePolicy"],
        ResourceARN=ORDERS,
    )
    expect_error(
        "producer PutResourcePolicy orders (same account, not allowed the action)",
        "AccessDeniedException",
        env.client(PRODUCER).put_resource_policy,
        contains=[env.principal(PRODUCER), "kinesis:PutResourcePolicy"],
        ResourceARN=ORDERS,
        Policy=read_policy,
    )

    # Policies that break the Kinesis resource-policy rules are refused and change nothing.
    for name, finding in [
        ("invalid-principal-star.json", "Principal *"),
        ("invalid-action-wildcard.json", "Action kinesis:*"),
        ("invalid-unshareable-action.json", "kinesis:PutResourcePolicy shared with another account"),
    ]:
        expect_error(
            f"admin PutResourcePolicy orders with {finding}",
            "InvalidArgumentException",
            admin.put_resource_policy,
            ResourceARN=ORDERS,
            Policy=policy_text(name),
        )
    expect_error(
        "admin PutResourcePolicy orders with text that is not JSON",
        "InvalidArgumentException",
        admin.put_resource_policy,
        ResourceARN=ORDERS,
        Policy='{"Version": "2012-10-17", "Statement": [',
    )
    got = call("admin GetResourcePolicy orders", admin.get_resource_policy, ResourceARN=ORDERS)
    same_policy(got["Policy"], read_policy, "GetResourcePolicy after the refused policies")
    log("admin GetResourcePolicy orders after the refused ones: still the read policy")
    reader_reads(env, reader, "reader (after the refused policies)")

    # A session policy narrows the same role: the limited session may only describe.
    s = call("reader/limited DescribeStreamSummary", limited.describe_stream_summary, StreamARN=ORDERS, StreamName="orders")
    check(s["StreamDescriptionSummary"]["StreamARN"] == ORDERS, "reader/limited DescribeStreamSummary")
    log("reader/limited DescribeStreamSummary orders: allowed")
    expect_error(
        "reader/limited GetShardIterator (session policy)",
        "AccessDeniedException",
        limited.get_shard_iterator,
        contains=[env.principal(READER_LIMITED), "kinesis:GetShardIterator", ORDERS],
        StreamARN=ORDERS,
        StreamName="orders",
        ShardId=SHARD,
        ShardIteratorType="TRIM_HORIZON",
    )

    call("admin DeleteResourcePolicy orders", admin.delete_resource_policy, ResourceARN=ORDERS)
    got = call("admin GetResourcePolicy orders", admin.get_resource_policy, ResourceARN=ORDERS)
    check(json.loads(got["Policy"]) == {}, f"GetResourcePolicy after delete: expected {{}}, got {got['Policy']!r}")
    log("admin DeleteResourcePolicy orders: done, GetResourcePolicy answers {}")
    reader_iterator_denied(env, reader, "reader GetShardIterator orders after the delete")

    # Put it back: the restart scenarios check that it survives.
    call("admin PutResourcePolicy orders (again)", admin.put_resource_policy, ResourceARN=ORDERS, Policy=read_policy)
    reader_reads(env, reader, "reader (policy put back)")


# --- c: enhanced fan-out consumer policy -----------------------------------------------------


def scenario_c(env):
    admin, reader = env.client(ADMIN), env.client(READER)
    me = env.principal(READER)
    subscribe = dict(ConsumerARN=CONSUMER, ShardId=SHARD, StartingPosition={"Type": "LATEST"})
    expect_error(
        "reader DescribeStreamConsumer, no consumer policy",
        "AccessDeniedException",
        reader.describe_stream_consumer,
        startswith=denied_message(me, "kinesis:DescribeStreamConsumer", CONSUMER),
        ConsumerARN=CONSUMER,
    )
    expect_error(
        "reader SubscribeToShard, no consumer policy",
        "AccessDeniedException",
        reader.subscribe_to_shard,
        startswith=denied_message(me, "kinesis:SubscribeToShard", CONSUMER),
        **subscribe,
    )
    consumer_policy = policy_text("orders-fanout-consumer.json")
    call("admin PutResourcePolicy consumer", admin.put_resource_policy, ResourceARN=CONSUMER, Policy=consumer_policy)
    log("admin PutResourcePolicy on the consumer ARN: accepted")
    got = call("admin GetResourcePolicy consumer", admin.get_resource_policy, ResourceARN=CONSUMER)
    same_policy(got["Policy"], consumer_policy, "admin GetResourcePolicy consumer")
    # Allowed now: kinesalite has no enhanced fan-out, so its UnknownOperationException is the
    # proof that the gateway forwarded the calls.
    expect_error("reader DescribeStreamConsumer, with the consumer policy", "UnknownOperationException", reader.describe_stream_consumer, ConsumerARN=CONSUMER)
    expect_error("reader SubscribeToShard, with the consumer policy", "UnknownOperationException", reader.subscribe_to_shard, **subscribe)
    # The consumer policy does not open the stream's other actions to anyone else.
    expect_error(
        "producer SubscribeToShard on the consumer",
        "AccessDeniedException",
        env.client(PRODUCER).subscribe_to_shard,
        contains=[env.principal(PRODUCER), "kinesis:SubscribeToShard", CONSUMER],
        **subscribe,
    )


# --- d: signatures ---------------------------------------------------------------------------


@contextmanager
def clock_offset(seconds):
    """botocore's SigV4 signer reads the time with datetime.datetime.utcnow(): shift it."""
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + datetime.timedelta(seconds=seconds)

    with mock.patch.object(botocore.auth, "datetime", types.SimpleNamespace(datetime=Shifted, timedelta=datetime.timedelta)):
        yield


def raw_post(url, target, body, headers):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        # The gateway's certificate: trusted through the CA the client is given (AWS_CA_BUNDLE).
        ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        h = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET_PREFIX + target}
        h.update(headers)
        conn.request("POST", "/", body=body, headers=h)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def sigv4_headers(env, key, target, body, *, date_shift=0):
    req = AWSRequest(
        method="POST",
        url=env.gateway + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET_PREFIX + target},
    )
    with clock_offset(date_shift):
        botocore.auth.SigV4Auth(env.creds(key), "kinesis", REGION).add_auth(req)
    return dict(req.headers.items())


def error_type(status, body, what):
    check(status == 400, f"{what}: expected HTTP 400, got {status}: {body[:300]!r}")
    try:
        doc = json.loads(body)
    except ValueError:
        raise Fail(f"{what}: the error body is not JSON: {body[:300]!r}")
    check(isinstance(doc, dict) and "__type" in doc and "message" in doc, f"{what}: the error body is not {{\"__type\", \"message\"}}: {doc}")
    return doc["__type"].split("#")[-1], doc["message"]


def scenario_d(env):
    me = env.principal(PRODUCER)

    def hooked(mutate):
        c = env.client(PRODUCER)
        c.meta.events.register("before-send.kinesis.*", mutate)
        return c

    def flip_signature(request, **_):
        auth = request.headers["Authorization"].decode() if isinstance(request.headers["Authorization"], bytes) else request.headers["Authorization"]
        last = auth[-1]
        request.headers["Authorization"] = auth[:-1] + ("0" if last != "0" else "1")

    def change_body(request, **_):
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        check(b'"k1"' in body, f"the body to tamper with lacks the partition key: {body!r}")
        request.body = body.replace(b'"k1"', b'"k9"')

    put = dict(StreamName="orders", Data=b"tampered", PartitionKey="k1")
    expect_error("PutRecord, one hex digit of the Signature changed", "InvalidSignatureException", hooked(flip_signature).put_record, **put)
    expect_error("PutRecord, the body changed after signing", "InvalidSignatureException", hooked(change_body).put_record, **put)
    expect_error(
        "PutRecord signed with the wrong secret",
        "InvalidSignatureException",
        env.client(PRODUCER, secret="not-the-producers-secret-0000000000000000").put_record,
        **put,
    )
    expect_error(
        "PutRecord with an unknown access key",
        "UnrecognizedClientException",
        env.client("AKIAUNKNOWN000000000").put_record,
        **put,
    )
    producer = env.client(PRODUCER)
    with clock_offset(-20 * 60):
        expect_error(
            "PutRecord signed with a clock 20 minutes back",
            "InvalidSignatureException",
            producer.put_record,
            startswith="Signature expired",
            **put,
        )
    with clock_offset(+20 * 60):
        expect_error(
            "PutRecord signed with a clock 20 minutes ahead",
            "InvalidSignatureException",
            producer.put_record,
            startswith="Signature not yet current",  # AWS's wording for a date in the future
            **put,
        )
    expect_error(
        "PutRecord unsigned (anonymous)",
        "AccessDeniedException",
        env.client(unsigned=True).put_record,
        contains=["kinesis:PutRecord", ORDERS],
        **put,
    )

    # Raw HTTP: the same signer (botocore.auth.SigV4Auth) over http.client.
    body = json.dumps({"StreamName": "orders", "Data": "cmF3", "PartitionKey": "raw"}).encode()
    status, resp = raw_post(env.gateway, "PutRecord", body, sigv4_headers(env, PRODUCER, "PutRecord", body))
    check(status == 200, f"raw signed PutRecord: expected 200, got {status}: {resp[:300]!r}")
    check("SequenceNumber" in json.loads(resp), f"raw signed PutRecord: {resp!r}")
    log(f"raw PutRecord signed with botocore.auth.SigV4Auth: 200, {json.loads(resp)['SequenceNumber']}")

    headers = sigv4_headers(env, PRODUCER, "PutRecord", body)
    incomplete = headers["Authorization"].split(", SignedHeaders=")[0]
    headers["Authorization"] = incomplete
    code, msg = error_type(*raw_post(env.gateway, "PutRecord", body, headers), "raw PutRecord, Authorization without SignedHeaders and Signature")
    check(code == "IncompleteSignatureException", f"Authorization {incomplete!r}: expected IncompleteSignatureException, got {code}: {msg}")
    log(f"raw PutRecord, Authorization without SignedHeaders/Signature: {code}: {msg}")

    headers = sigv4_headers(env, PRODUCER, "PutRecord", body)
    del headers["X-Amz-Date"]
    code, msg = error_type(*raw_post(env.gateway, "PutRecord", body, headers), "raw PutRecord without X-Amz-Date")
    check(code in ("IncompleteSignatureException", "InvalidSignatureException"), f"no X-Amz-Date: expected IncompleteSignatureException (or InvalidSignatureException), got {code}: {msg}")
    log(f"raw PutRecord without X-Amz-Date: {code}: {msg}")

    # The signed target is part of the signature: a different X-Amz-Target is refused.
    headers = sigv4_headers(env, PRODUCER, "PutRecord", body)
    headers["X-Amz-Target"] = TARGET_PREFIX + "DescribeStreamSummary"
    code, msg = error_type(*raw_post(env.gateway, "DescribeStreamSummary", body, headers), "raw request, X-Amz-Target changed after signing")
    check(code == "InvalidSignatureException", f"X-Amz-Target changed after signing: expected InvalidSignatureException, got {code}: {msg}")
    log(f"raw request, X-Amz-Target changed after signing: {code}: {msg}")

    # Nothing of the refused writes reached the stream.
    data = read_all(env.client(ADMIN), "admin", StreamName="orders")
    check(b"tampered" not in data, f"a refused PutRecord reached the stream: {data}")
    log(f"orders holds no record of the refused requests ({len(data)} records)")


# --- tags: aws:ResourceTag/env -----------------------------------------------------------------


def scenario_tags(env):
    admin, tagged = env.client(ADMIN), env.client(TAGGED)
    me = env.principal(TAGGED)

    def put(name):
        return call(f"tagged PutRecord {name}", tagged.put_record, StreamName=name, Data=b"tagged", PartitionKey="t")

    def denied(name, why):
        expect_error(
            f"tagged PutRecord {name} ({why})",
            "AccessDeniedException",
            tagged.put_record,
            startswith=denied_message(me, "kinesis:PutRecord", stream_arn(name)),
            StreamName=name,
            Data=b"tagged",
            PartitionKey="t",
        )

    create_stream(admin, "legacy")
    put("legacy")
    log("tagged PutRecord legacy: allowed (env=dev from the store's resources)")
    denied("orders", "no env tag")
    call("admin AddTagsToStream orders env=dev", admin.add_tags_to_stream, StreamName="orders", Tags={"env": "dev"})
    put("orders")
    log("tagged PutRecord orders after AddTagsToStream env=dev: allowed")
    call("admin RemoveTagsFromStream orders env", admin.remove_tags_from_stream, StreamName="orders", TagKeys=["env"])
    denied("orders", "env tag removed")
    call("admin AddTagsToStream orders env=prod", admin.add_tags_to_stream, StreamName="orders", Tags={"env": "prod"})
    denied("orders", "env=prod")
    create_stream(admin, "devstream", Tags={"env": "dev"})
    put("devstream")
    log("tagged PutRecord devstream (CreateStream with Tags env=dev): allowed")


# --- a policy for a stream that does not exist -----------------------------------------------------


def scenario_missing_stream(env):
    """PutResourcePolicy on a stream (or a consumer of a stream) the upstream does not have is
    refused with Kinesis's ResourceNotFoundException and stores nothing: creating the stream
    later grants nobody anything until a policy is put on it."""
    admin, reader = env.client(ADMIN), env.client(READER)
    name = "latecomer"
    arn = stream_arn(name)
    policy = policy_text("orders-read.json").replace(ORDERS, arn)
    expect_error(
        "admin PutResourcePolicy on a stream that does not exist",
        "ResourceNotFoundException",
        admin.put_resource_policy,
        contains=[f"Stream {name} under account {ACCOUNT} not found."],
        ResourceARN=arn,
        Policy=policy,
    )
    log("admin PutResourcePolicy latecomer (no such stream): ResourceNotFoundException")
    # kinesalite has no enhanced fan-out (DescribeStreamConsumer is UnknownOperationException
    # there), so for a consumer the gateway can check only that its stream exists.
    consumer = arn + "/consumer/fanout:1700000000"
    expect_error(
        "admin PutResourcePolicy on a consumer of a stream that does not exist",
        "ResourceNotFoundException",
        admin.put_resource_policy,
        contains=[f"Stream {name} under account {ACCOUNT} not found."],
        ResourceARN=consumer,
        Policy=policy_text("orders-fanout-consumer.json").replace(ORDERS, arn),
    )
    log("admin PutResourcePolicy on a consumer of latecomer: ResourceNotFoundException")
    for what in (arn, consumer):
        got = call(f"admin GetResourcePolicy {what}", admin.get_resource_policy, ResourceARN=what)
        check(json.loads(got["Policy"]) == {}, f"GetResourcePolicy {what}: the refused policy was stored: {got['Policy']!r}")
    log("admin GetResourcePolicy on both: {} (nothing stored)")

    create_stream(admin, name)
    log("admin CreateStream latecomer")
    expect_error(
        "reader DescribeStreamSummary latecomer, created after the refused policy",
        "AccessDeniedException",
        reader.describe_stream_summary,
        startswith=denied_message(env.principal(READER), "kinesis:DescribeStreamSummary", arn),
        StreamARN=arn,
        StreamName=name,
    )
    log("reader DescribeStreamSummary latecomer: denied (the refused policy grants nothing)")
    call("admin PutResourcePolicy latecomer (the stream exists now)", admin.put_resource_policy, ResourceARN=arn, Policy=policy)
    s = call("reader DescribeStreamSummary latecomer", reader.describe_stream_summary, StreamARN=arn, StreamName=name)
    check(s["StreamDescriptionSummary"]["StreamARN"] == arn, "reader DescribeStreamSummary latecomer")
    log("admin PutResourcePolicy latecomer: accepted; reader DescribeStreamSummary: allowed")

    # A wildcard-only action denied says that it is authorized against "Resource": "*".
    expect_error(
        "producer UpdateShardCount orders",
        "AccessDeniedException",
        env.client(PRODUCER).update_shard_count,
        contains=['kinesis:UpdateShardCount is authorized against "Resource": "*"'],
        StreamName="orders",
        TargetShardCount=2,
        ScalingType="UNIFORM_SCALING",
    )
    log("producer UpdateShardCount: denied, naming the \"Resource\": \"*\" it needs")


# --- the upstream's own errors -------------------------------------------------------------------


def scenario_upstream_errors(env):
    """kinesalite's errors come back with their codes, in the gateway's account's terms; a
    tagging call that fails upstream mirrors nothing."""
    admin, tagged = env.client(ADMIN), env.client(TAGGED)
    expect_error(
        "admin DescribeStreamSummary on a stream that does not exist",
        "ResourceNotFoundException",
        admin.describe_stream_summary,
        contains=["ghost"],
        StreamName="ghost",
    )
    expect_error(
        "admin CreateStream orders again",
        "ResourceInUseException",
        admin.create_stream,
        contains=["orders"],
        StreamName="orders",
        ShardCount=1,
    )
    expect_error(
        "admin AddTagsToStream on a stream that does not exist",
        "ResourceNotFoundException",
        admin.add_tags_to_stream,
        StreamName="ghost",
        Tags={"env": "dev"},
    )
    expect_error(
        "tagged PutRecord ghost (the failed AddTagsToStream mirrored nothing)",
        "AccessDeniedException",
        tagged.put_record,
        startswith=denied_message(env.principal(TAGGED), "kinesis:PutRecord", stream_arn("ghost")),
        StreamName="ghost",
        Data=b"tagged",
        PartitionKey="t",
    )


# --- reload and restart helpers ----------------------------------------------------------------


def scenario_producer_allowed(env):
    r = call("producer PutRecord orders", env.client(PRODUCER).put_record, StreamName="orders", Data=b"after-reload", PartitionKey="k1")
    log(f"producer PutRecord orders: allowed, SequenceNumber {r['SequenceNumber']}")


def scenario_producer_denied_explicit(env):
    expect_error(
        "producer PutRecord orders",
        "AccessDeniedException",
        env.client(PRODUCER).put_record,
        startswith=denied_message(env.principal(PRODUCER), "kinesis:PutRecord", ORDERS),
        contains=["explicit deny"],
        StreamName="orders",
        Data=b"denied",
        PartitionKey="k1",
    )
    # The other actions of the producer are untouched.
    call("producer DescribeStreamSummary", env.client(PRODUCER).describe_stream_summary, StreamName="orders")
    log("producer DescribeStreamSummary orders: still allowed")


def scenario_late_key(env):
    check(LATE in env.keys, f"{LATE} is not in {env.args.credentials}")
    r = call(f"admin ({LATE}, added by the reload) PutRecord", env.client(LATE).put_record, StreamName="orders", Data=b"late-key", PartitionKey="k1")
    log(f"PutRecord signed with {LATE}, added to the credentials file and reloaded: allowed, {r['SequenceNumber']}")


def scenario_late_key_unknown(env):
    expect_error(
        f"PutRecord with {LATE} before the reload",
        "UnrecognizedClientException",
        env.client(LATE).put_record,
        StreamName="orders",
        Data=b"late-key",
        PartitionKey="k1",
    )


def scenario_persisted(env):
    """After a restart: the stream and consumer policies are still in force."""
    admin, reader = env.client(ADMIN), env.client(READER)
    got = call("admin GetResourcePolicy orders", admin.get_resource_policy, ResourceARN=ORDERS)
    same_policy(got["Policy"], policy_text("orders-read.json"), "GetResourcePolicy orders after the restart")
    log("admin GetResourcePolicy orders: the read policy put before the restart")
    got = call("admin GetResourcePolicy consumer", admin.get_resource_policy, ResourceARN=CONSUMER)
    same_policy(got["Policy"], policy_text("orders-fanout-consumer.json"), "GetResourcePolicy consumer after the restart")
    log("admin GetResourcePolicy consumer: the consumer policy put before the restart")
    reader_reads(env, reader, "reader")
    expect_error("reader DescribeStreamConsumer", "UnknownOperationException", reader.describe_stream_consumer, ConsumerARN=CONSUMER)


# --- g: kill -9 during policy writes -------------------------------------------------------------


def versioned_policy(arn, n):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": f"v{n}",
                    "Effect": "Allow",
                    "Principal": {"AWS": PARTNER},
                    "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator"],
                    "Resource": arn,
                }
            ],
        }
    )


def scenario_policy_loop(env):
    """PutResourcePolicy v1, v2, ... on `audit`; each acknowledged n is appended to --acks
    (flushed and fsynced) before the next call. Ends when the gateway goes away."""
    acks = env.args.acks
    check(acks, "policy-loop needs --acks FILE")
    admin = env.client(ADMIN)
    create_stream(admin, "audit")
    arn = stream_arn("audit")
    deadline = time.monotonic() + env.args.max_seconds
    n = 0
    with open(acks, "a", encoding="utf-8") as out:
        print("ready", flush=True)
        while time.monotonic() < deadline and n < 1_000_000:
            n += 1
            try:
                admin.put_resource_policy(ResourceARN=arn, Policy=versioned_policy(arn, n))
            except ClientError as e:
                raise Fail(f"PutResourcePolicy v{n}: {e.response.get('Error')}")
            except (botocore.exceptions.BotoCoreError, OSError) as e:
                log(f"PutResourcePolicy v{n}: the gateway went away ({type(e).__name__}); last acknowledged v{n - 1}")
                return
            out.write(f"{n}\n")
            out.flush()
            os.fsync(out.fileno())
    raise Fail(f"the gateway was not killed within {env.args.max_seconds}s ({n} policies acknowledged)")


def scenario_policy_version(env):
    """GetResourcePolicy on `audit` names a version >= --min."""
    got = call("admin GetResourcePolicy audit", env.client(ADMIN).get_resource_policy, ResourceARN=stream_arn("audit"))
    try:
        doc = json.loads(got["Policy"])
        sid = doc["Statement"][0]["Sid"]
        n = int(sid[1:])
    except (ValueError, KeyError, IndexError, TypeError):
        raise Fail(f"GetResourcePolicy audit: not a versioned policy: {got['Policy']!r}")
    check(doc == json.loads(versioned_policy(stream_arn("audit"), n)), f"GetResourcePolicy audit: the policy {sid} is not the one put: {got['Policy']!r}")
    check(n >= env.args.min, f"GetResourcePolicy audit: {sid}, but v{env.args.min} had been acknowledged: an acknowledged write was lost")
    log(f"GetResourcePolicy audit after kill -9 and restart: {sid} (last acknowledged v{env.args.min})")


FRONT_ONLY = "AKIAFRONTONLY0000001"


def scenario_signed_upstream(env):
    """Through a front gateway that signs what it forwards with its own key (--sign-upstream):
    the client's key is known to the front gateway only, so the inner gateway accepts the
    request only because the front one signed it again, validly."""
    check(FRONT_ONLY in env.keys, f"the front gateway's credentials lack {FRONT_ONLY}")
    r = call("front-only key PutRecord orders (via two gateways)", env.client(FRONT_ONLY).put_record,
             StreamName="orders", Data=b"via-front", PartitionKey="k1")
    log(f"front-only key PutRecord orders through the re-signing gateway: allowed, SequenceNumber {r['SequenceNumber']}")
    # The front gateway still decides for its own caller: the producer's identity cannot read.
    expect_error(
        "front-only key GetShardIterator orders",
        "AccessDeniedException",
        env.client(FRONT_ONLY).get_shard_iterator,
        startswith=denied_message(env.principal(FRONT_ONLY), "kinesis:GetShardIterator", ORDERS),
        StreamName="orders",
        ShardId="shardId-000000000000",
        ShardIteratorType="TRIM_HORIZON",
    )
    log("front-only key GetShardIterator: denied by the front gateway (the producer's policies)")


# --- TLS (tests/gateway_tls.rs) --------------------------------------------------------------


def scenario_cleartext_untrusted(env):
    """A cleartext listener in front of an https upstream it has no CA for: aws:SecureTransport
    is false (the store's Deny of the producer's PutRecord outside TLS applies), and an allowed
    call gets 503 because the upstream's certificate is not trusted."""
    check(env.gateway.startswith("http://"), f"expected a cleartext gateway, got {env.gateway}")
    expect_error(
        "producer PutRecord over cleartext",
        "AccessDeniedException",
        env.client(PRODUCER).put_record,
        contains=[env.principal(PRODUCER), "kinesis:PutRecord", "with an explicit deny"],
        StreamName="orders",
        Data=b"clear",
        PartitionKey="k1",
    )
    try:
        r = env.client(ADMIN).describe_stream_summary(StreamName="orders")
        raise Fail(f"admin DescribeStreamSummary through an untrusted upstream succeeded: {short(r)}")
    except ClientError as e:
        err, status = e.response["Error"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(err.get("Code") == "ServiceUnavailable" and status == 503, f"expected 503 ServiceUnavailable, got {status} {err}")
        check("certificate" in (err.get("Message") or "").lower(), f"the 503 does not say why: {err}")
        log(f"admin DescribeStreamSummary, upstream certificate not trusted: HTTP 503 {err['Code']}: {err['Message']}")


def scenario_renewed_certificate(env):
    """After SIGHUP the gateway serves the renewed certificate (CN gateway-renewed), and clients
    that trust the CA keep working."""
    u = urllib.parse.urlsplit(env.gateway)
    ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
    with ctx.wrap_socket(__import__("socket").create_connection((u.hostname, u.port), timeout=10), server_hostname=u.hostname) as tls:
        subject = dict(x[0] for x in tls.getpeercert()["subject"])
        alpn = tls.selected_alpn_protocol()
    check(subject.get("commonName") == "gateway-renewed", f"the gateway still serves {subject}")
    log(f"TLS handshake after SIGHUP: certificate CN {subject['commonName']}")
    ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with ctx.wrap_socket(__import__("socket").create_connection((u.hostname, u.port), timeout=10), server_hostname=u.hostname) as tls:
        alpn = tls.selected_alpn_protocol()
    check(alpn == "h2", f"ALPN offered h2 and http/1.1, the gateway chose {alpn!r}")
    log(f"ALPN h2 + http/1.1 offered: the gateway chose {alpn}")
    s = call("producer DescribeStreamSummary", env.client(PRODUCER).describe_stream_summary, StreamName="orders")
    check(s["StreamDescriptionSummary"]["StreamARN"] == ORDERS, "producer DescribeStreamSummary after the reload")
    r = call("producer PutRecord over TLS", env.client(PRODUCER).put_record, StreamName="orders", Data=b"renewed", PartitionKey="k1")
    log(f"producer PutRecord over TLS after the reload: allowed ({r['SequenceNumber']})")


SCENARIOS = {
    "cleartext-untrusted": scenario_cleartext_untrusted,
    "renewed-certificate": scenario_renewed_certificate,
    "signed-upstream": scenario_signed_upstream,
    "a": scenario_a,
    "b": scenario_b,
    "c": scenario_c,
    "d": scenario_d,
    "tags": scenario_tags,
    "upstream-errors": scenario_upstream_errors,
    "missing-stream": scenario_missing_stream,
    "producer-allowed": scenario_producer_allowed,
    "producer-denied-explicit": scenario_producer_denied_explicit,
    "late-key-unknown": scenario_late_key_unknown,
    "late-key": scenario_late_key,
    "persisted": scenario_persisted,
    "policy-loop": scenario_policy_loop,
    "policy-version": scenario_policy_version,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--gateway", required=True, help="the gateway's URL, http://127.0.0.1:PORT")
    p.add_argument("--upstream", required=True, help="kinesalite's URL")
    p.add_argument("--credentials", required=True, help="the gateway's credentials file")
    p.add_argument("--acks", help="policy-loop: the file of acknowledged versions")
    p.add_argument("--max-seconds", type=float, default=60.0, help="policy-loop: time cap")
    p.add_argument("--min", type=int, default=0, help="policy-version: the last acknowledged version")
    args = p.parse_args()
    print(f"== scenario {args.scenario} (gateway {args.gateway}, upstream {args.upstream})", flush=True)
    start = time.monotonic()
    try:
        SCENARIOS[args.scenario](Env(args))
    except Fail as e:
        print(f"FAIL: scenario {args.scenario}: {e}", flush=True)
        sys.exit(1)
    except (botocore.exceptions.BotoCoreError, OSError) as e:
        print(f"FAIL: scenario {args.scenario}: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print(f"ok: scenario {args.scenario} ({time.monotonic() - start:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
