// The golden signature of src/gateway/sigv4/tests.rs's `golden_js_sdk_v3_http2_authority`: a
// PutRecord signed as the AWS SDK for JavaScript v3 signs it over HTTP/2 (its Kinesis client's
// default handler), with `:authority` among the signed headers instead of `host`.
//   node src/gateway/testdata/sigv4_golden_h2.js target/e2e/node
// (target/e2e/node: where tests/gateway/setup.sh installs @aws-sdk/client-kinesis.)
'use strict'
const path = require('path')
const nm = path.resolve(process.argv[2] || 'target/e2e/node', 'node_modules')
const { SignatureV4 } = require(path.join(nm, '@smithy/signature-v4'))
const { Sha256 } = require(path.join(nm, '@smithy/core/checksum'))
;(async () => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'AKIAPRODUCER00000001', secretAccessKey: 'producer-secret-key' },
    region: 'us-east-1',
    service: 'kinesis',
    sha256: Sha256
  })
  const body = '{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"p1"}'
  const req = {
    method: 'POST',
    protocol: 'https:',
    hostname: '127.0.0.1',
    port: 4568,
    path: '/',
    query: {},
    headers: {
      ':authority': '127.0.0.1:4568',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.PutRecord',
      'amz-sdk-invocation-id': '6f1c2d3e-0000-4000-8000-000000000001',
      'content-length': String(Buffer.byteLength(body))
    },
    body
  }
  const signed = await signer.sign(req, { signingDate: new Date('2026-11-26T13:40:00Z') })
  console.log(JSON.stringify(signed.headers, null, 1))
})()
