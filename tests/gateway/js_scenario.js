// The seed's scenario with the AWS SDK for JavaScript v3 (npm @aws-sdk/client-kinesis, pinned in
// package.json/package-lock.json, installed by setup.sh), driven by tests/gateway_tls.rs:
//   node js_scenario.js NODE_DIR GATEWAY_URL CREDENTIALS_FILE
// The client changes only its endpoint; the gateway's CA comes from NODE_EXTRA_CA_CERTS. A
// producer writes and may not read; a partner account reads only after the owner's
// PutResourcePolicy and not after DeleteResourcePolicy; a signature changed after signing is
// refused. Exits 1 with "FAIL: ..." on the first failed expectation.
'use strict'
const fs = require('fs')
const path = require('path')

const [nodeDir, gateway, credentialsFile] = process.argv.slice(2)
const sdk = require(path.join(path.resolve(nodeDir), 'node_modules', '@aws-sdk', 'client-kinesis'))
const keys = JSON.parse(fs.readFileSync(credentialsFile, 'utf8')).keys

const REGION = 'us-east-1'
const ACCOUNT = '111122223333'
const STREAM = 'js-orders'
const ARN = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${STREAM}`
const SHARD = 'shardId-000000000000'

class Fail extends Error {}
function check (cond, what) { if (!cond) throw new Fail(what) }
function log (msg) { console.log('  ' + msg) }

function client (key, { tamper = false } = {}) {
  const k = keys[key]
  const c = new sdk.KinesisClient({
    region: REGION,
    endpoint: gateway,
    maxAttempts: 1,
    credentials: { accessKeyId: key, secretAccessKey: k.secret, sessionToken: k.session_token }
  })
  if (tamper) {
    // After the SDK signed: one hex digit of the signature changed.
    c.middlewareStack.addRelativeTo((next) => async (args) => {
      const h = args.request.headers
      const name = Object.keys(h).find((n) => n.toLowerCase() === 'authorization')
      const auth = h[name]
      h[name] = auth.slice(0, -1) + (auth.endsWith('0') ? '1' : '0')
      return next(args)
    }, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamperSignature' })
  }
  return c
}

async function ok (c, what, command) {
  try {
    const r = await c.send(command)
    log(`${what}: ok`)
    return r
  } catch (e) {
    throw new Fail(`${what}: expected success, got ${e.name}: ${e.message}`)
  }
}

async function refused (c, what, code, command, contains = []) {
  let r
  try {
    r = await c.send(command)
  } catch (e) {
    check(e.name === code, `${what}: expected ${code}, got ${e.name}: ${e.message}`)
    check(e.$metadata && e.$metadata.httpStatusCode === 400, `${what}: expected HTTP 400, got ${e.$metadata && e.$metadata.httpStatusCode}`)
    for (const s of contains) check(e.message.includes(s), `${what}: the ${code} message lacks ${s}: ${e.message}`)
    log(`${what}: ${code}: ${e.message}`)
    return
  }
  throw new Fail(`${what}: expected ${code}, but it succeeded: ${JSON.stringify(r).slice(0, 300)}`)
}

async function main () {
  console.log(`== AWS SDK for JavaScript v3 against ${gateway}`)
  const admin = client('AKIAADMIN00000000001')
  const producer = client('AKIAPRODUCER00000001')
  const reader = client('ASIAREADER0000000001')
  const producerArn = keys.AKIAPRODUCER00000001.principal
  const readerArn = keys.ASIAREADER0000000001.principal

  await ok(admin, 'admin CreateStream', new sdk.CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }))
  const s = await ok(admin, 'admin DescribeStreamSummary', new sdk.DescribeStreamSummaryCommand({ StreamName: STREAM }))
  check(s.StreamDescriptionSummary.StreamARN === ARN, `StreamARN ${s.StreamDescriptionSummary.StreamARN}, expected ${ARN}`)
  check(s.StreamDescriptionSummary.StreamCreationTimestamp instanceof Date, 'StreamCreationTimestamp is not a Date')
  const put = await ok(producer, 'producer PutRecord', new sdk.PutRecordCommand({ StreamName: STREAM, Data: Buffer.from('js-1'), PartitionKey: 'k1' }))
  check(put.SequenceNumber, 'PutRecord: no SequenceNumber')
  await refused(producer, 'producer GetShardIterator', 'AccessDeniedException',
    new sdk.GetShardIteratorCommand({ StreamName: STREAM, ShardId: SHARD, ShardIteratorType: 'TRIM_HORIZON' }),
    [`User: ${producerArn} is not authorized to perform: kinesis:GetShardIterator on resource: ${ARN}`])

  const read = { StreamARN: ARN, StreamName: STREAM, ShardId: SHARD, ShardIteratorType: 'TRIM_HORIZON' }
  await refused(reader, 'partner GetShardIterator, no policy', 'AccessDeniedException', new sdk.GetShardIteratorCommand(read), [readerArn, ARN])
  const policy = fs.readFileSync(path.join(__dirname, 'policies', 'orders-read.json'), 'utf8').replace('stream/orders', `stream/${STREAM}`)
  await ok(admin, 'admin PutResourcePolicy', new sdk.PutResourcePolicyCommand({ ResourceARN: ARN, Policy: policy }))
  const it = await ok(reader, 'partner GetShardIterator after PutResourcePolicy', new sdk.GetShardIteratorCommand(read))
  const recs = await ok(reader, 'partner GetRecords', new sdk.GetRecordsCommand({ ShardIterator: it.ShardIterator, StreamARN: ARN }))
  const data = recs.Records.map((r) => Buffer.from(r.Data).toString())
  check(data.includes('js-1'), `the partner read ${JSON.stringify(data)}, without js-1`)
  log(`partner read ${JSON.stringify(data)}`)
  await ok(admin, 'admin DeleteResourcePolicy', new sdk.DeleteResourcePolicyCommand({ ResourceARN: ARN }))
  await refused(reader, 'partner GetShardIterator after DeleteResourcePolicy', 'AccessDeniedException', new sdk.GetShardIteratorCommand(read), [readerArn])

  await refused(client('AKIAPRODUCER00000001', { tamper: true }), 'producer PutRecord, signature changed after signing',
    'InvalidSignatureException', new sdk.PutRecordCommand({ StreamName: STREAM, Data: Buffer.from('x'), PartitionKey: 'k1' }))
  console.log('js sdk: all expectations met')
}

main().catch((e) => {
  console.log(e instanceof Fail ? `FAIL: ${e.message}` : `FAIL: ${e.name}: ${e.message}`)
  process.exit(1)
})
