// A UDP relay for tests of bad networks (tc netem is not available on these
// machines): it stands where the browsers think the server's media port is
// (the server announces --public-ip and binds its media port elsewhere with
// --media-bind) and forwards every datagram, dropping some at random and
// capping each client's downstream bandwidth when told to.
//
//   browser ──► LISTEN_ADDR:port ──(loss)──► upstream socket ──► server
//   browser ◄── (loss, cap: queue drained at the rate, drop-tail) ◄── server
//
// Each client address gets an upstream socket of its own, so the server sees
// one 5-tuple per client, as it would without the relay. Loss is a seeded
// pseudo-random draw per datagram (reproducible); the cap is a FIFO queue
// per client drained at `capBps`, at most `maxQueueMs` deep (beyond that
// datagrams are dropped), which is how a congested link behaves: delay
// first, then loss, which is what a delay-based estimator must see.
import { createSocket } from 'node:dgram';

/** mulberry32: a small seeded PRNG (public-domain algorithm). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startRelay({ listenAddr, port, targetAddr, targetPort, seed = 1 }) {
  const rand = prng(seed);
  const front = createSocket('udp4');
  const clients = new Map(); // "addr:port" -> { up, queue, queued, tokens, last, timer }
  const stats = { up: 0, down: 0, upDropped: 0, downDropped: 0, capDropped: 0 };
  let loss = 0;
  let lossUp = 0;
  let lossSince = 0; // only clients first seen at or after this (Date.now())
  const lossy = (c) => c.firstSeen >= lossSince;
  let capBps = 0;
  let maxQueueMs = 200;

  const pump = (c) => {
    c.timer = null;
    const now = performance.now();
    if (capBps) {
      c.tokens = Math.min(c.tokens + ((now - c.last) * capBps) / 8000, 4000);
    }
    c.last = now;
    while (c.queue.length && (!capBps || c.tokens >= c.queue[0].length)) {
      const b = c.queue.shift();
      c.queued -= b.length;
      if (capBps) c.tokens -= b.length;
      front.send(b, c.port, c.addr);
      stats.down++;
    }
    if (c.queue.length) {
      const wait = Math.max(1, ((c.queue[0].length - c.tokens) * 8000) / capBps);
      c.timer = setTimeout(() => pump(c), wait);
    }
  };

  const client = (addr, cport) => {
    const key = `${addr}:${cport}`;
    let c = clients.get(key);
    if (c) return c;
    const up = createSocket('udp4');
    c = { addr, port: cport, up, queue: [], queued: 0, tokens: 4000, last: performance.now(), timer: null, firstSeen: Date.now() };
    clients.set(key, c);
    up.on('message', (b) => {
      if (loss && lossy(c) && rand() < loss) {
        stats.downDropped++;
        return;
      }
      if (!capBps) {
        front.send(b, c.port, c.addr);
        stats.down++;
        return;
      }
      if (((c.queued + b.length) * 8000) / capBps > maxQueueMs) {
        stats.capDropped++;
        return;
      }
      c.queue.push(b);
      c.queued += b.length;
      if (!c.timer) pump(c);
    });
    up.bind(0, targetAddr);
    return c;
  };

  front.on('message', (b, rinfo) => {
    const c = client(rinfo.address, rinfo.port);
    if (lossUp && lossy(c) && rand() < lossUp) {
      stats.upDropped++;
      return;
    }
    c.up.send(b, targetPort, targetAddr);
    stats.up++;
  });
  await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind(port, listenAddr, () => {
      front.off('error', reject);
      resolve();
    });
  });

  return {
    stats,
    /**
     * Drops this fraction of datagrams downstream and (default: the same)
     * upstream (0 … 1), on the paths of clients (5-tuples) first seen at or
     * after `since` (Date.now(); default: all).
     */
    setLoss(down, up = down, since = 0) {
      loss = down;
      lossUp = up;
      lossSince = since;
    },
    /** Caps every client's downstream at bps (0: no cap); queue depth in ms. */
    setCap(bps, queueMs = 200) {
      capBps = bps;
      maxQueueMs = queueMs;
      for (const c of clients.values()) {
        c.tokens = Math.min(c.tokens, 4000);
        if (!bps) pump(c);
      }
    },
    close() {
      for (const c of clients.values()) {
        clearTimeout(c.timer);
        c.up.close();
      }
      front.close();
    },
  };
}
