// chat-hub: a Node.js WebSocket hub, the protocol written by hand (RFC
// 6455, text frames under 126 bytes, no library). A member's text is echoed
// back; a close frame is answered with one and the socket is ended.
//
// The bug: the upgrade handler never listens for 'end'. Node's HTTP server
// hands upgraded sockets over half-open (allowHalfOpen), so a member that
// goes away without a close frame (a closed tab, a dropped phone) leaves its
// socket with the peer's FIN read and ours never sent: CLOSE_WAIT, and the
// socket stays in members until the process exits.
'use strict';
const http = require('http');
const crypto = require('crypto');

const port = Number(process.argv[2]);
const members = new Set();

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('upgrade required\n');
});

server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1')
    .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  members.add(socket);
  console.log(`${new Date().toISOString()} joined ${socket.remotePort} (${members.size} members)`);
  socket.on('data', (buf) => onFrame(socket, buf));
  socket.on('error', (err) => {
    console.log(`${new Date().toISOString()} ${socket.remotePort}: ${err.code}`);
    members.delete(socket);
  });
  // Missing: socket.on('end', () => { members.delete(socket); socket.end(); });
});

// frame makes an unmasked frame of one opcode and a short payload.
function frame(opcode, payload) {
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

function onFrame(socket, buf) {
  const opcode = buf[0] & 0x0f;
  const len = buf[1] & 0x7f;
  const mask = buf.subarray(2, 6);
  const payload = Buffer.from(buf.subarray(6, 6 + len));
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  if (opcode === 0x8) { // close: answer it and end the socket
    members.delete(socket);
    socket.end(frame(0x8, payload));
    console.log(`${new Date().toISOString()} left ${socket.remotePort} with a close frame (${members.size} members)`);
    return;
  }
  if (opcode === 0x1) {
    socket.write(frame(0x1, Buffer.from(`echo: ${payload}`)));
  }
}

server.listen(port, '127.0.0.1', () => console.log(`${new Date().toISOString()} chat-hub on ${port}`));
