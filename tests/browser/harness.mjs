// Shared set-up for the browser tests: the real conclave server on a free
// loopback port with a throw-away data directory, and headless Chromium with
// fake camera and microphone. Everything started here is stopped by stop().
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const binary = join(repoRoot, 'build', 'conclave');
export const webIndex = join(repoRoot, 'build', 'web', 'index.html');
export const artifacts = join(repoRoot, 'tests', 'artifacts');

const run = promisify(execFile);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--ignore-certificate-errors',
];

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
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

async function waitHealthy(base, proc, deadlineMs) {
  const until = Date.now() + deadlineMs;
  for (let delay = 25; Date.now() < until; delay = Math.min(delay * 2, 250)) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`conclave exited early (${proc.exitCode ?? proc.signalCode})`);
    }
    if ((await getStatus(`${base}/healthz`)) === 200) return;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new Error(`conclave did not answer /healthz within ${deadlineMs} ms`);
}

/**
 * Starts `conclave serve` and waits for /healthz. Returns { base, dataDir,
 * log(), createMeeting(), stop() }.
 */
export async function startServer() {
  await access(binary).catch(() => {
    throw new Error(`${binary} is missing: run make first`);
  });
  await access(webIndex).catch(() => {
    throw new Error(`${webIndex} is missing: run make web first`);
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'conclave-browser-'));
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  const proc = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir, '--public-url', base], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  proc.stdout.setEncoding('utf8').on('data', keep);
  proc.stderr.setEncoding('utf8').on('data', keep);

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    await waitHealthy(base, proc, 20_000);
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n--- server output ---\n${output}`);
  }

  return {
    base,
    dataDir,
    log: () => output,
    /** `conclave meeting create --json` against the same data directory. */
    async createMeeting() {
      const { stdout } = await run(binary, ['meeting', 'create', '--data', dataDir, '--public-url', base, '--json'], { timeout: 15_000 });
      return JSON.parse(stdout);
    },
    stop,
  };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
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
    ws.on('framesent', (f) => frames.push({ dir: 'out', payload: String(f.payload) }));
    ws.on('framereceived', (f) => frames.push({ dir: 'in', payload: String(f.payload) }));
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
