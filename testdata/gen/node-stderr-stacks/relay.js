// line-relay: a Node.js service that leaks its sockets and prints, with
// --trace-warnings, the stacks of the event callbacks it leaks them in.
//
// The server keeps every connection half-open (allowHalfOpen, never
// end()): a client's FIN leaves the socket in CLOSE_WAIT. Its 'data'
// handler adds a 'close' listener per chunk, so that after eleven chunks
// Node emits a MaxListenersExceededWarning whose stack runs from
// TCP.onStreamRead through the handler (Socket.<anonymous>). Its upstream
// is down: the connect error's stack ends in TCPConnectWrap.afterConnect,
// and the 'error' handler's warning runs under emitErrorNT.
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
const downPort = Number(process.argv[3]);
const chunks = Number(process.argv[4] || 12);

const server = net.createServer({ allowHalfOpen: true }, (sock) => {
  let lines = 0;
  sock.on('data', (chunk) => {
    lines += chunk.toString().split('\n').length - 1;
    sock.on('close', () => console.log(`closed after ${lines} lines`)); // bug: one per chunk
  });
  sock.on('end', () => console.log(`${new Date().toISOString()} peer ended after ${lines} lines; socket kept`));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`${new Date().toISOString()} listening on 127.0.0.1:${port}`);
  const up = net.connect(downPort, '127.0.0.1');
  up.on('error', (err) => {
    console.error(err);
    process.emitWarning(`upstream 127.0.0.1:${downPort} down (${err.code}), relaying nothing`, 'UpstreamWarning');
  });
  const c = net.connect(port, '127.0.0.1', () => {
    let i = 0;
    const t = setInterval(() => {
      c.write(`line ${i}\n`);
      if (++i === chunks) {
        clearInterval(t);
        c.end();
      }
    }, 30);
  });
});
setInterval(() => {}, 1000);
