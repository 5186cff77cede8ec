// Shared set-up for the browser tests: the real conclave server on a free
// port with a throw-away data directory, and headless Chromium with fake
// camera and microphone. Everything started here is stopped by stop().
//
// Address: CONCLAVE_TEST_ADDR if set (scripts/netns.sh sets 10.77.0.1: the
// tests then run inside a network namespace of their own, because Chromium
// gathers no ICE candidates on loopback), else 127.0.0.1, where everything
// but media works.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, access, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

import { poll } from '../lib/poll.mjs';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
// the server under test: $CONCLAVE_BIN (make test passes the ASan + UBSan
// build), else the release build
export const binary = process.env.CONCLAVE_BIN || join(repoRoot, 'build', 'conclave');
export const webIndex = join(repoRoot, 'build', 'web', 'index.html');
export const artifacts = join(repoRoot, 'tests', 'artifacts');
export const testAddr = process.env.CONCLAVE_TEST_ADDR || '127.0.0.1';

const run = promisify(execFile);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-ui-for-media-stream',
  '--ignore-certificate-errors',
];

export async function freePort(addr = testAddr) {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, addr, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A UDP port nobody uses right now (for the server's media worker). */
export async function freeUdpPort(addr = testAddr) {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.unref();
    sock.on('error', reject);
    sock.bind(0, addr, () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

/** GET url with the self-signed certificate accepted; resolves to the status. */
function getStatus(url) {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** GET url with the self-signed certificate accepted; resolves to the body ('' on failure). */
export function getText(url) {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
    req.end();
  });
}

function waitHealthy(base, proc, deadlineMs) {
  return poll(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw Object.assign(new Error(`conclave exited early (${proc.exitCode ?? proc.signalCode})`), { fatal: true });
    }
    return (await getStatus(`${base}/healthz`)) === 200;
  }, { timeout: deadlineMs, interval: 50, what: 'waiting for conclave to answer /healthz' });
}

/**
 * Starts `conclave serve` and waits for /healthz. Returns { base, dataDir,
 * mediaPort, log(), createMeeting(), metrics(), restart(), stop() }. The server always
 * gets a media port of its own (the default 10000 may be taken) and one
 * media worker; `extraArgs` adds settings (e.g. --media-timeout 5).
 */
export async function startServer({ extraArgs = [] } = {}) {
  await access(binary).catch(() => {
    throw new Error(`${binary} is missing: run make first`);
  });
  await access(webIndex).catch(() => {
    throw new Error(`${webIndex} is missing: run make web first`);
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'conclave-browser-'));
  const port = await freePort();
  const mediaPort = await freeUdpPort();
  const base = `https://${testAddr}:${port}`;
  const args = ['serve', '--listen', `${testAddr}:${port}`, '--data', dataDir, '--public-url', base];
  args.push('--media-port', String(mediaPort), '--media-workers', '1', ...extraArgs);
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  let proc;
  // As root the server runs at nice -5: on the test machine's two cores it
  // competes with up to four Chromium pages, each encoding three simulcast
  // layers, that in real use run on machines of their own. Starved of a
  // core, its media worker held packets for up to a second in a CI run
  // (conclave_media_forward_delay_seconds, 2026-11-29), and what the tests
  // measure in the pages (a late joiner's first frames) waited with them.
  const [command, argv] = process.getuid?.() === 0 ? ['nice', ['-n', '-5', binary, ...args]] : [binary, args];
  const launch = () => {
    proc = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.setEncoding('utf8').on('data', keep);
    proc.stderr.setEncoding('utf8').on('data', keep);
  };
  /** SIGTERM (SIGKILL after 5 s); resolves once the process has exited. */
  const terminate = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async () => {
    await terminate();
    await rm(dataDir, { recursive: true, force: true });
  };

  launch();
  try {
    await waitHealthy(base, proc, 20_000);
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n--- server output ---\n${output}`);
  }

  return {
    base,
    dataDir,
    mediaPort,
    log: () => output,
    /** The Prometheus text of /metrics (readable from loopback and, in the namespace, from the test address). */
    metrics: () => getText(`${base}/metrics`),
    /**
     * Stops the server (SIGTERM) and starts it again on the same address,
     * port, media port and data directory; resolves once /healthz answers.
     * `whileDown` runs after the old process has exited and before the new
     * one starts. Returns { stoppedAt, healthyAt } (Date.now() values).
     */
    async restart({ whileDown } = {}) {
      output += '\n--- restart ---\n';
      await terminate();
      const stoppedAt = Date.now();
      if (whileDown) await whileDown();
      launch();
      await waitHealthy(base, proc, 20_000);
      return { stoppedAt, healthyAt: Date.now() };
    },
    /** `conclave meeting create --json` against the same data directory. */
    async createMeeting() {
      const { stdout } = await run(binary, ['meeting', 'create', '--data', dataDir, '--public-url', base, '--json'], { timeout: 15_000 });
      return JSON.parse(stdout);
    },
    stop,
  };
}

/**
 * In a fresh namespace the veth pair's IPv6 link-local addresses finish
 * duplicate address detection a second or two after it was made; Chromium
 * sees that as a network change and fails navigations in flight with
 * net::ERR_NETWORK_CHANGED. Waits until no address is tentative any more.
 */
async function settleNetwork(deadlineMs = 10_000) {
  if (!process.env.CONCLAVE_NETNS) return;
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const { stdout } = await run('ip', ['-6', 'addr', 'show', 'tentative'], { timeout: 5000 }).catch(() => ({ stdout: '' }));
    if (stdout.trim() === '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Headless Chromium with fake camera and microphone; `extraArgs` adds
 * switches. The fake camera runs at `fps` frames a second, 10 unless a
 * suite asks for more: six pages each encoding a 720p simulcast camera and
 * decoding the others' saturate two cores of a slower machine (AES-GCM at
 * 0.87 us per 1,200 bytes, against 0.47 on the machines the suite was
 * first tuned on), and a receiver that falls behind looks congested to the
 * bandwidth estimation. Resolution and layers stay those of a real camera.
 * A suite that measures bitrates against a cap wants a camera's real rate
 * (quality.test.mjs: 30; at 10 the middle layer fits under its cap).
 */
export async function launchBrowser({ extraArgs = [], fps = 10 } = {}) {
  await settleNetwork();
  const camera = `--use-fake-device-for-media-stream=fps=${fps}`;
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, camera, ...extraArgs] });
}

/**
 * Writes a WAV file that sounds like someone talking: a voiced tone
 * (harmonics of a pitch gliding between 110 and 220 Hz) whose loudness
 * rises and falls four times a second but never stops, about -12 dBFS at
 * its peaks. For --use-file-for-fake-audio-capture: Chromium's default
 * fake microphone only beeps for 20 ms twice a second, which is not speech.
 */
export async function writeSpeechWav(path, seconds = 10, rate = 48_000) {
  const n = seconds * rate;
  const data = Buffer.alloc(n * 2);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const pitch = 165 + 55 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / rate;
    let v = 0;
    for (let k = 1; k <= 6; k++) v += Math.sin(k * phase) / k;
    const envelope = 0.35 + 0.65 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t));
    const sample = Math.max(-1, Math.min(1, 0.25 * envelope * v));
    data.writeInt16LE(Math.round(sample * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  await writeFile(path, Buffer.concat([header, data]));
  return path;
}

/**
 * A fresh browser context and page that record every request, console
 * message and CSP violation, for the checks at the end of each test.
 */
export async function watchedPage(browser, options = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US', ...options });
  const requests = [];
  const console = [];
  const frames = [];
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() }));
  // Reported from inside the page, so violations are seen even when the
  // browser does not print them to the console.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (m) => console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => console.push({ type: 'pageerror', text: String(e) }));
  page.on('websocket', (ws) => {
    requests.push({ url: ws.url(), method: 'WEBSOCKET', body: null });
    ws.on('framesent', (f) => frames.push({ dir: 'out', payload: String(f.payload), at: Date.now() }));
    ws.on('framereceived', (f) => frames.push({ dir: 'in', payload: String(f.payload), at: Date.now() }));
  });
  return {
    context,
    page,
    requests,
    console,
    frames,
    cspViolations: () => page.evaluate(() => window.__cspViolations ?? []),
  };
}

/** Requests to anywhere but `origin` (data: and blob: URLs are local). */
export function foreignRequests(requests, origin) {
  return requests.filter((r) => {
    if (r.url.startsWith('data:') || r.url.startsWith('blob:')) return false;
    try {
      const u = new URL(r.url);
      const wsOrigin = u.protocol === 'wss:' ? `https://${u.host}` : u.origin;
      return wsOrigin !== origin;
    } catch {
      return true;
    }
  });
}

export function cspConsoleMessages(messages) {
  return messages.filter((m) => /content security policy|content-security-policy/i.test(m.text));
}

/**
 * Drops every UDP datagram sent to `port` (browsers → the media worker) until
 * the returned function is called: a media outage that leaves signaling
 * alone. Changes the routing rules, so it works only inside the throw-away
 * namespace of scripts/netns.sh (CONCLAVE_NETNS), never on the host.
 */
export async function blockUdpTo(port) {
  if (!process.env.CONCLAVE_NETNS) throw new Error('blockUdpTo needs the namespace of scripts/netns.sh');
  const ip = (...args) => run('ip', args, { timeout: 5000 });
  // Local delivery is decided by the rule "lookup local" at preference 0,
  // which no rule can precede: move it behind the blackhole first.
  const rules = (await ip('rule', 'show')).stdout;
  if (!/^100:\s+from all lookup local/m.test(rules)) {
    await ip('rule', 'add', 'pref', '100', 'lookup', 'local');
    await ip('rule', 'del', 'pref', '0');
  }
  await ip('rule', 'add', 'pref', '10', 'ipproto', 'udp', 'dport', String(port), 'blackhole');
  return async () => {
    await ip('rule', 'del', 'pref', '10');
  };
}

/**
 * The link without its fragment: the meeting id only, no invite secret. A
 * guest with it knocks and waits until a host admits it by name (with the
 * full link the members admit it by its invite proof, at once).
 */
export function knockLink(link) {
  return link.split('#')[0];
}

/** With ?query inserted before the fragment, as DESIGN.md §9 writes it. */
export function withQuery(link, query) {
  const u = new URL(link);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * Polls fn every `interval` ms until it returns a truthy value and returns
 * that; past `timeout` throws with the last value. An error fn throws is
 * thrown at once (a closed page does not come back). tests/lib/poll.mjs.
 */
export function until(what, fn, { timeout = 20_000, interval = 100 } = {}) {
  return poll(fn, { timeout, interval, what: `waiting for ${what}`, rethrow: true });
}

/** The page's receive counters per participant (the web app's test hook). */
export const mediaStats = (page) => page.evaluate(() => window.__conclave.stats());
/** The page's ICE states { publish, subscribe }. */
export const iceStates = (page) => page.evaluate(() => window.__conclave.ice());
/** One's own participant id, from one's own tile. */
export const selfId = (page) => page.locator('[data-testid=tile][data-self=true]').getAttribute('data-participant');

/**
 * Waits until `page` has decoded video from each of `others`, and then
 * until that video keeps coming, as does their audio.
 */
export async function assertReceiving(who, page, others, timeout = 20_000) {
  const first = await until(
    `${who} to decode video from ${others.join(', ')}`,
    async () => {
      const s = await mediaStats(page);
      return others.every((id) => (s[id]?.framesDecoded ?? 0) > 0) ? s : null;
    },
    { timeout },
  );
  await until(
    `${who}: video and audio from ${others.join(', ')} to keep flowing`,
    async () => {
      const s = await mediaStats(page);
      return others.every((id) => s[id] && s[id].framesDecoded > first[id].framesDecoded && s[id].audioBytesReceived > first[id].audioBytesReceived);
    },
    { timeout: 10_000 },
  );
}

/** The common end-of-test checks: same origin only, no CSP violation. */
export async function assertClean(w, origin) {
  assert.deepEqual(foreignRequests(w.requests, origin), [], 'a request went to another origin');
  assert.deepEqual(await w.cspViolations(), [], 'the page violated the CSP');
  assert.deepEqual(cspConsoleMessages(w.console), [], 'the console reports a CSP problem');
}

// ---- the server's test tap (--test-tap DIR, with --insecure-test) ----------------
// What the SFU forwarded, for checks that it is ciphertext. The same record
// format and header rules as in e2ee.test.mjs (which predates these helpers).

/** Records of a media-<worker>.tap file: [u32 ssrc][u16 seq][u8 pt][u8 marker][u16 len][payload]. */
export function tapRecords(buf) {
  const out = [];
  for (let at = 0; at + 10 <= buf.length; ) {
    const len = buf.readUInt16BE(at + 8);
    if (at + 10 + len > buf.length) break;
    out.push({ ssrc: buf.readUInt32BE(at), seq: buf.readUInt16BE(at + 4), marker: buf[at + 7] !== 0, payload: buf.subarray(at + 10, at + 10 + len) });
    at += 10 + len;
  }
  return out;
}

/**
 * The VP8 frames of one SSRC's packets (RFC 7741 §4.2 payload descriptor):
 * in sequence order, from a packet with S=1 and partition 0 to the marker
 * bit; repeats of a sequence number (one record per subscriber) count once.
 */
export function tapVp8Frames(records) {
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  const first = records[0]?.seq ?? 0;
  const rel = (seq) => {
    const d = (seq - first) & 0xffff;
    return d >= 0x8000 ? d - 0x10000 : d;
  };
  const frames = [];
  let parts = null;
  for (const r of [...bySeq.values()].sort((a, b) => rel(a.seq) - rel(b.seq))) {
    const p = r.payload;
    let n = 1;
    if (p[0] & 0x80) {
      n = 2;
      if (p[1] & 0x80) n += p[2] & 0x80 ? 2 : 1;
      if (p[1] & 0x40) n += 1;
      if (p[1] & 0x30) n += 1;
    }
    if (p[0] & 0x10 && (p[0] & 0x07) === 0) parts = [];
    if (parts) parts.push(p.subarray(n));
    if (r.marker && parts) {
      frames.push(Buffer.concat(parts));
      parts = null;
    }
  }
  return frames;
}

/** RFC 9605 §4.3 SFrame header of a frame: { kid, ctr, length } (BigInt KID and CTR), or null. */
export function sframeHeader(b) {
  if (b.length < 1) return null;
  const cfg = b[0];
  const klen = cfg & 0x80 ? ((cfg >> 4) & 7) + 1 : 0;
  const clen = cfg & 0x08 ? (cfg & 7) + 1 : 0;
  const length = 1 + klen + clen;
  if (b.length < length) return null;
  const read = (at, n) => {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i]);
    return v;
  };
  return { kid: klen ? read(1, klen) : BigInt((cfg >> 4) & 7), ctr: clen ? read(1 + klen, clen) : BigInt(cfg & 7), length };
}
