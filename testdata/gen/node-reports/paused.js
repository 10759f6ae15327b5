// paused.js PORT N OUT: a Node.js client whose N connections to a server
// in this same process stop reading after their first chunk
// (socket.pause(), as a response nobody consumes): the rest of the 128 KiB
// answer and the server's FIN wait unread in the kernel, and each client
// socket sits in CLOSE_WAIT; then it writes its diagnostic report to OUT
// and exits.
// Written for Node.js 12 to 24 (no optional chaining, no ?? operator).
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
const n = Number(process.argv[3]);
const out = process.argv[4];

const server = net.createServer(function (sock) {
  sock.end(Buffer.alloc(128 * 1024, 'x')); // the answer, then FIN
});

function fetchLine(done) {
  const s = net.connect(port, '127.0.0.1');
  s.once('data', function () {
    s.pause(); // stop reading: the FIN stays unread
    done();
  });
}

server.listen(port, '127.0.0.1', function () {
  let left = n;
  for (let i = 0; i < n; i++) {
    fetchLine(function () {
      left--;
      if (left === 0) {
        // Let the server's FINs arrive, then write the report.
        setTimeout(function () {
          process.report.writeReport(out);
          process.exit(0);
        }, 1000);
      }
    });
  }
});
