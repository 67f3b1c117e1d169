# Generates the botocore golden fixtures of src/gateway/sigv4.rs (tests::golden_*), with the
# clock fixed at 2026-11-26T13:40:00Z. Run with a Python that has botocore:
#   python3 src/gateway/testdata/sigv4_golden.py
# The Host header is not printed: botocore signs the host of the URL (with its port when not
# the default), which is what the HTTP client then sends.
import datetime, json
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

class FixedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return datetime.datetime(2026, 11, 26, 13, 40, 0)

botocore.auth.datetime.datetime = FixedClock

def sign(name, url, body, akid, secret, token=None):
    req = AWSRequest(method='POST', url=url, data=body, headers={
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'Kinesis_20131202.PutRecord'})
    SigV4Auth(Credentials(akid, secret, token), 'kinesis', 'us-east-1').add_auth(req)
    print(name, json.dumps({'url': url, 'body': body.decode('utf-8'), 'headers': dict(req.headers.items())}, ensure_ascii=False, indent=1))

sign('port', 'http://127.0.0.1:4568/', b'{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"p1"}',
     'AKIAPRODUCER00000001', 'producer-secret-key')
sign('token', 'http://127.0.0.1:4568/', b'{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"p2"}',
     'ASIASESSION000000001', 'session-secret-key', 'FwoGZXIvYXdzEBYaDH+token/with=chars')
sign('utf8', 'https://kinesis.us-east-1.amazonaws.com/',
     '{"StreamName": "orders", "Data": "aGk=", "PartitionKey": "clé  ünïcode 日本 €"}'.encode('utf-8'),
     'AKIAPRODUCER00000001', 'producer-secret-key')
