// Starts kinesalite (installed by setup.sh) on 127.0.0.1, in memory, with streams ACTIVE at once.
//   node kinesalite.js NODE_DIR [PORT] [KEY_PEM CERT_PEM]
// PORT 0 (the default) takes a free port. With KEY_PEM and CERT_PEM it serves https with that
// key and certificate (kinesalite's bundled one expired in 2018 and names no loopback address).
// The first line on stdout is "Listening at http(s)://127.0.0.1:PORT" with the port taken.
'use strict'
const fs = require('fs')
const path = require('path')
const kinesalite = require(path.join(path.resolve(process.argv[2] || '.'), 'node_modules', 'kinesalite'))
const port = Number(process.argv[3] || 0)
const options = { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }
if (process.argv[4] && process.argv[5]) {
  options.ssl = true
  options.key = fs.readFileSync(process.argv[4])
  options.cert = fs.readFileSync(process.argv[5])
  options.ca = options.cert
}
const server = kinesalite(options)
server.listen(port, '127.0.0.1', function () {
  const a = server.address()
  console.log('Listening at %s://%s:%d', options.ssl ? 'https' : 'http', a.address, a.port)
})
process.on('SIGTERM', function () { process.exit(0) })
process.on('SIGINT', function () { process.exit(0) })
