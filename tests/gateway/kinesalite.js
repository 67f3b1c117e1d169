// Starts kinesalite (installed by setup.sh) on 127.0.0.1, in memory, with streams ACTIVE at once.
//   node kinesalite.js NODE_DIR [PORT]
// PORT 0 (the default) takes a free port. The first line on stdout is
// "Listening at http://127.0.0.1:PORT" with the port taken.
'use strict'
const path = require('path')
const kinesalite = require(path.join(path.resolve(process.argv[2] || '.'), 'node_modules', 'kinesalite'))
const port = Number(process.argv[3] || 0)
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 })
server.listen(port, '127.0.0.1', function () {
  const a = server.address()
  console.log('Listening at http://%s:%d', a.address, a.port)
})
process.on('SIGTERM', function () { process.exit(0) })
process.on('SIGINT', function () { process.exit(0) })
