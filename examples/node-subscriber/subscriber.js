#!/usr/bin/env node
// A docktunnel event subscriber using only Node's `net` module: connects to the TCP event-bus
// bridge, registers docktunnel.forward.status, takes the docktunnel.forwards.list snapshot and
// prints it, then every forward.status event after it, with no gap and no duplicate (the seq rule
// of docs/events.md). One line per forward, on stdout:
//   snapshot seq=<n> <containerName> 127.0.0.1:<localPort> -> <publishedPort>/<protocol> <status>
//   event    seq=<n> <containerName> 127.0.0.1:<localPort> -> <publishedPort>/<protocol> <status>
//
// Usage: node subscriber.js <bridge-port>   (the port is `bridgePort` in the host's state file,
//        ~/.docktunnel/<host-id>.state.json)
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node subscriber.js <bridge-port> (bridgePort in ~/.docktunnel/<host-id>.state.json)');
  process.exit(2);
}

const MAX_FRAME = 16 * 1024 * 1024; // the daemon's frames are far smaller; anything bigger is not ours
const REPLY = 'node-subscriber.snapshot';

// Frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
function frame(json) {
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

function describe(kind, seq, f) {
  return `${kind} seq=${seq} ${f.containerName} 127.0.0.1:${f.localPort} -> ${f.publishedPort}/${f.protocol} ${f.status}`
    + (f.reason ? ` (${f.reason})` : '');
}

let snapshotSeq = null; // null until the snapshot arrived: events meanwhile wait in `early`
const early = [];

function onEvent(fact) {
  if (snapshotSeq === null) {
    early.push(fact);
  } else if (fact.seq > snapshotSeq) { // at or below: already in the snapshot
    console.log(describe('event   ', fact.seq, fact));
  }
}

function onFrame(msg) {
  if (msg.type === 'err') {
    console.error(`bridge error: ${msg.message}${msg.reason ? ': ' + msg.reason : ''}`);
    return;
  }
  if (msg.type !== 'message') {
    return; // pong
  }
  if (msg.address === REPLY) {
    snapshotSeq = msg.body.seq;
    for (const f of msg.body.forwards) {
      console.log(describe('snapshot', snapshotSeq, f));
    }
    console.log(`snapshot done seq=${snapshotSeq} forwards=${msg.body.forwards.length}`);
    early.splice(0).forEach(onEvent);
  } else if (msg.address === 'docktunnel.forward.status') {
    onEvent(msg.body);
  }
}

const socket = net.connect({ host: '127.0.0.1', port }, () => {
  // Register first, then ask: the bridge handles a connection's frames in order, so every event
  // after the snapshot's seq reaches us.
  socket.write(frame({ type: 'register', address: 'docktunnel.forward.status' }));
  socket.write(frame({ type: 'send', address: 'docktunnel.forwards.list', replyAddress: REPLY, body: {} }));
});

let pending = Buffer.alloc(0);
socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (length > MAX_FRAME) {
      console.error(`bridge sent a frame of ${length} bytes; not a docktunnel bridge?`);
      socket.destroy();
      process.exit(1);
    }
    if (pending.length < 4 + length) {
      break;
    }
    const json = pending.subarray(4, 4 + length).toString('utf8');
    pending = pending.subarray(4 + length);
    onFrame(JSON.parse(json));
  }
});

// Keep the connection known to be alive; the bridge answers with a pong.
const pinger = setInterval(() => socket.write(frame({ type: 'ping' })), 5000);

socket.on('error', (e) => {
  console.error(`cannot use the bridge at 127.0.0.1:${port}: ${e.message}`);
  process.exit(1);
});
socket.on('close', () => {
  clearInterval(pinger);
  console.error(`the daemon closed the bridge at 127.0.0.1:${port}`);
  process.exit(1);
});
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
