// line-logger: a Node.js service whose logger writes each line of a
// message as a record of its own, a few milliseconds apart, as loggers
// bound for syslog do. Two of them started together (two.sh) log the stack
// of an error made in a 'data' handler (under TCP.onStreamRead) at the same
// moment, so that the journal interleaves the lines of their stacks.
//
// Usage: node linelog.js PORT NAME START_MS
// START_MS is the wall-clock time (ms since the epoch) at which the client
// writes its one line; the server logs the stack when it reads it.
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
const name = process.argv[3];
const start = Number(process.argv[4]);

function logLines(lines) {
  let i = 0;
  const t = setInterval(() => {
    process.stdout.write(lines[i] + '\n');
    if (++i === lines.length) clearInterval(t);
  }, 7);
}

const server = net.createServer({ allowHalfOpen: true }, (sock) => {
  sock.on('data', () => {
    const err = new Error(`${name}: request from ${sock.remoteAddress}:${sock.remotePort} kept open`);
    logLines(err.stack.split('\n'));
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${name} listening on 127.0.0.1:${port}\n`);
  const c = net.connect(port, '127.0.0.1', () => {
    setTimeout(() => c.write('line 0\n'), Math.max(0, start - Date.now()));
  });
});
setInterval(() => {}, 1000);
