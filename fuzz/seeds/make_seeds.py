#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/seeds/raw/<target>/ from the conformance
corpus (../shared/conformance, or $IAMC_SHARED/conformance), tests/ and examples/. The
checked-in corpora under fuzz/corpus/ are these seeds after `cargo fuzz cmin` and the
fuzzing runs; rerun this only to rebuild them:

    python3 fuzz/seeds/make_seeds.py
    for t in $(cargo fuzz list); do
        mkdir -p fuzz/corpus/$t
        cargo +nightly fuzz cmin $t fuzz/corpus/$t fuzz/seeds/raw/$t   # merges into corpus/$t
    done
"""
import hashlib, hmac, json, os, random, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IAMC_SHARED", ROOT.parent / "shared")) / "conformance"
OUT = ROOT / "fuzz/seeds/raw"

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)

def documents(v, out):
    if isinstance(v, dict):
        if "Statement" in v:
            out.append(json.dumps(v, indent=2)); return
        for k, x in v.items():
            if k == "document_text" and isinstance(x, str): out.append(x)
            else: documents(x, out)
    elif isinstance(v, list):
        for x in v: documents(x, out)

def walk(v, fn):
    fn(v)
    if isinstance(v, dict):
        for x in v.values(): walk(x, fn)
    elif isinstance(v, list):
        for x in v: walk(x, fn)

corpus_files = sorted((SHARED / "decisions").glob("*.json")) + sorted((SHARED / "validation").glob("*.json")) \
    + sorted((ROOT / "tests/corpus").glob("*.json"))
docs = []
requests = []
values = set()
for f in corpus_files:
    v = json.loads(f.read_text())
    documents(v, docs)
    def grab(x):
        if isinstance(x, dict) and "principal" in x and "action" in x:
            requests.append(x)
        if isinstance(x, str) and len(x) < 200:
            values.add(x)
    walk(v, grab)
for f in sorted((ROOT / "examples/kinesis/policies").glob("*.json")) + sorted((ROOT / "tests/check/fixtures").glob("*.json")):
    docs.append(f.read_text())

# json_policy: a type selector byte, then the document.
for i, d in enumerate(docs):
    put("json_policy", bytes([i % 7]) + d.encode())

# text_policy: the examples' text forms.
for f in sorted((ROOT / "examples/kinesis/text").glob("*.iam")):
    put("text_policy", f.read_text())
# ... and every corpus document that is valid, in the text form, as `iamc fmt` prints it
# (when the binary is built: target/debug/iamc or target/release/iamc).
import subprocess
iamc = next((p for p in [ROOT / "target/debug/iamc", ROOT / "target/release/iamc"] if p.exists()), None)
if iamc:
    for d in docs:
        r = subprocess.run([str(iamc), "fmt", "-"], input=d.encode(), capture_output=True, timeout=10)
        if r.returncode == 0:
            put("text_policy", r.stdout)

# store: the stores whose documents are inline.
for f in [ROOT / "tests/gateway/store.json"]:
    put("store", f.read_text())
def inline_store(store_path):
    s = json.loads(store_path.read_text())
    for name, p in s.get("policies", {}).items():
        if "file" in p:
            p["document"] = json.loads((store_path.parent / p.pop("file")).read_text())
    return json.dumps(s, indent=1)
for p in [ROOT / "examples/kinesis/store.json", ROOT / "tests/check/store/store.json"]:
    try:
        put("store", inline_store(p))
    except Exception as e:
        print(f"skipped {p}: {e}", file=sys.stderr)

# credentials
put("credentials", (ROOT / "tests/gateway/credentials.json").read_text())

# kinesis_plan: every operation with a body naming a stream, a consumer, an ARN.
ops = ["AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteResourcePolicy",
       "DeleteStream", "DeregisterStreamConsumer", "DescribeAccountSettings", "DescribeLimits",
       "DescribeStream", "DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring",
       "EnableEnhancedMonitoring", "GetRecords", "GetResourcePolicy", "GetShardIterator",
       "IncreaseStreamRetentionPeriod", "ListShards", "ListStreamConsumers", "ListStreams",
       "ListTagsForResource", "ListTagsForStream", "MergeShards", "PutRecord", "PutRecords",
       "PutResourcePolicy", "RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard",
       "StartStreamEncryption", "StopStreamEncryption", "SubscribeToShard", "TagResource",
       "UntagResource", "UpdateAccountSettings", "UpdateMaxRecordSize", "UpdateShardCount",
       "UpdateStreamMode", "UpdateStreamWarmThroughput"]
stream = "arn:aws:kinesis:us-east-1:111122223333:stream/orders"
consumer = stream + "/consumer/c1:1700000000"
bodies = [
    {"StreamName": "orders"},
    {"StreamARN": stream},
    {"StreamName": "orders", "Tags": {"team": "blue"}, "TagKeys": ["team"]},
    {"ConsumerARN": consumer},
    {"StreamARN": stream, "ConsumerName": "c1"},
    {"ResourceARN": stream, "Policy": "{}"},
    {"ResourceARN": consumer},
    {"ShardIterator": "known-iterator"},
    {"StreamName": "orders", "KeyId": "alias/k", "EncryptionType": "KMS"},
    {"StreamARN": stream, "KeyId": "arn:aws:kms:us-east-1:111122223333:key/k1"},
    {},
]
for op in ops:
    for b in bodies:
        put("kinesis_plan", op + "\n" + json.dumps(b))
    put("kinesis_plan", op + "@444455556666\n" + json.dumps(bodies[1]))

# server_bodies: each request alone (selector 0), and batches of them (selector 1).
lines = (ROOT / "examples/kinesis/requests.jsonl").read_text().splitlines()
reqs = [json.loads(l) for l in lines if l.strip()] + requests[:40]
for i, r in enumerate(reqs):
    put("server_bodies", b"\x00" + json.dumps(r).encode())
put("server_bodies", b"\x01" + json.dumps({"requests": reqs[:8]}).encode())
put("server_bodies", b"\x01" + json.dumps(reqs[8:16]).encode())

# condition_values: a selector byte per parser (see the target), then a value.
vals = {
    0: ["3600", "-1.5", "1e3", "0.000001", "12345678901234567890"],
    1: ["2026-06-01T00:00:00Z", "1704067200", "2026-02-29", "2026-11-26T10:00:00.123+05:30", "2026"],
    2: ["203.0.113.0/24", "2001:db8::/32", "10.0.0.1", "::ffff:1.2.3.4/128"],
    3: ["203.0.113.9", "2001:db8::1", "::", "1.2.3"],
    4: ["true", "FALSE", "1"],
    5: ["aGVsbG8=", "eA==", "", "Zm9vYmFy"],
    6: [stream, consumer, "arn:aws:iam::111122223333:role/teams/app", "arn:aws:s3:::bucket/key", "arn:aws:kinesis:*:stream/orders"],
    7: ["anonymous", "arn:aws:sts::111122223333:assumed-role/app/s1", "arn:aws:iam::111122223333:root", "111122223333", "kinesis.amazonaws.com"],
    8: ["StringEquals", "ForAllValues:StringLikeIfExists", "ArnNotLike", "Null", "DateLessThanEquals"],
    9: ["arn:aws:kinesis:us-east-1:111122223333:stream/${aws:username}", "${aws:PrincipalTag/team, 'x'}", "a*b?c${*}${?}${$}"],
}
for sel, vs in vals.items():
    for v in vs:
        put("condition_values", bytes([sel]) + v.encode())

# sigv4: requests signed (SigV4, by hand) with the target's fuzz credentials.
def sign(method, path, query, headers, body, key, secret, date, token=None):
    headers = dict(headers)
    headers["x-amz-date"] = date
    if token: headers["x-amz-security-token"] = token
    names = sorted(headers)
    canon_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    signed = ";".join(names)
    canon = "\n".join([method, path, query, canon_headers, signed, hashlib.sha256(body).hexdigest()])
    day = date[:8]
    scope = f"{day}/us-east-1/kinesis/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in [day, "us-east-1", "kinesis", "aws4_request"]:
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, Signature={sig}"
    target = path + ("?" + query if query else "")
    head = f"{method} {target}\n" + "".join(f"{n}: {v}\n" for n, v in headers.items())
    return head.encode() + b"\n" + body
for op, body in [("PutRecord", b'{"StreamName":"orders","Data":"eA==","PartitionKey":"k"}'),
                 ("ListStreams", b"{}"), ("GetRecords", b'{"ShardIterator":"it"}')]:
    hs = {"host": "localhost:4568", "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "Kinesis_20131202." + op}
    put("sigv4", sign("POST", "/", "", hs, body, "AKIAFUZZ000000000001", "fuzz-secret-1", "20261126T100000Z"))
    put("sigv4", sign("POST", "/", "", hs, body, "ASIAFUZZ000000000002", "fuzz-secret-2", "20240229T235959Z", token="tok"))
put("sigv4", sign("GET", "/a%20b/c", "b=2&a=1&a=0", {"host": "h"}, b"", "AKIAFUZZ000000000001", "fuzz-secret-1", "20261126T100000Z"))
put("sigv4", b"POST /\nhost: h\n\n{}")
put("sigv4", b"GET /?X-Amz-Signature=abc&X-Amz-Credential=x\nhost: h\n\n")

# differential: random choice streams (the generator reads any bytes).
rnd = random.Random(19)
for i in range(64):
    put("differential", bytes(rnd.randrange(256) for _ in range(rnd.choice([16, 64, 256, 1024]))))

# cloudtrail: the replay fixtures, whole and cut in pieces of several sizes; a record alone.
import gzip
trail = ROOT / "tests/import/trail"
texts = [f.read_bytes() for f in sorted(trail.glob("*.jsonl"))]
texts += [gzip.decompress(f.read_bytes()) for f in sorted(trail.glob("*.gz"))]
for t in texts:
    for cut in (0, 6, 63):
        put("cloudtrail", bytes([cut]) + t)
    first = t.split(b"\n", 1)[0]
    put("cloudtrail", b"\x00" + first)

# import: each fixture for its reader (0 authorization details, 1 organization, 2 Kinesis).
for f in sorted((ROOT / "tests/import").glob("*.json")):
    sel = 0 if f.name.startswith("authz") else 1 if f.name.startswith("org") else 2
    put("import", bytes([sel]) + f.read_bytes())

for t in sorted(p.name for p in OUT.iterdir()):
    print(t, len(list((OUT / t).iterdir())))
