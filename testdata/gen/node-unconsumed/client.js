// report-poller: a Node.js client that fetches reports from an HTTP
// service and ignores the bodies of the answers it does not need. A
// response that is never consumed (no res.resume(), no 'data' handler)
// stops the socket from reading once Node's buffers are full: the
// server's FIN waits in the kernel behind the unread data, the socket goes
// to CLOSE_WAIT and stays there, and the diagnostic report shows its libuv
// tcp handle open but not active (not reading).
//
// Like a request tracer, poll keeps an Error made where each request is
// issued and, when it leaves a body unread, emits it as a process warning:
// run with --trace-warnings, Node prints "(node:PID) Name: message" and the
// stack of where the request was made on stderr.
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
const count = Number(process.argv[3] || 8);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const kept = [];

function poll(i) {
  const issued = new Error(`report ${i}: response body not consumed`);
  issued.name = 'UnconsumedBodyWarning';
  http.get({ host: '127.0.0.1', port, path: `/report/${i}`, agent }, (res) => {
    if (res.statusCode === 200 && i % 4 === 0) {
      res.setEncoding('utf8');
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => console.log(`${new Date().toISOString()} report ${i}: ${n} bytes`));
      return;
    }
    kept.push(res); // bug: the body is never read
    process.emitWarning(issued);
    console.log(`${new Date().toISOString()} report ${i}: status ${res.statusCode}, body skipped`);
  }).on('error', (err) => console.error(`${new Date().toISOString()} report ${i}: ${err.code} ${err.message}`));
}

for (let i = 0; i < count; i++) setTimeout(() => poll(i), i * 100);
setInterval(() => {}, 1000); // stay alive for the report
