// The meeting app as people see it (issue #7), in Chromium at a laptop
// size (1280×800) and a phone size (390×844):
//
//   1. pre-join, lobby, a 4-person meeting (grid and speaker view), a
//      screen share and the chat: screenshots of each kept in
//      tests/artifacts/ (app-<size>-*.png);
//      every tile visible and no two overlapping; the controls inside the
//      viewport and each reached by the Tab key; axe-core finds no serious
//      or critical violation on any of these screens. The screen share of
//      one member is decoded by the others (framesDecoded rising on the
//      screen m-line), through the same SFrame transform as the camera; it
//      stops with the button, can be shared again, and stops when the
//      browser ends it.
//   2. the screen share is end-to-end encrypted: with the server's test tap
//      (--test-tap) every forwarded frame of the screen's SSRC carries an
//      SFrame header with the sharer's KID and no VP8 key-frame start code
//      in the clear, while the viewers decode it.
//   3. the tile says so when the server holds a video back for bandwidth
//      (`video_quality` reason "bandwidth", injected into the page's
//      WebSocket: a real shortage is not reproducible on one machine).
//   4. six people, seen on a phone: the grid pages (four to a page), the
//      view sent to the server leaves the other page out, the server says
//      it paused exactly those (`video_quality` layer -1, reason "view", to
//      the phone; its gauge conclave_media_paused_streams counts at least
//      them — everyone is on a phone, so the others page too, and on this
//      two-core machine the bandwidth estimate holds back some streams, so
//      the gauge alone cannot single out the phone's), and their video
//      stops arriving while the shown ones keep coming; after turning the
//      page the other set is paused.
//
// One Chromium, one context per person (the machine has two cores). Media
// needs the network namespace of scripts/netns.sh (`make browser`, or
//   cd tests && ../scripts/netns.sh node --test browser/app.test.mjs).
// Progress is polled with deadlines, never with fixed sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { artifacts, knockLink, launchBrowser, selfId, sframeHeader, startServer, tapRecords, tapVp8Frames, until, watchedPage, withQuery } from './harness.mjs';

const inNamespace = Boolean(process.env.CONCLAVE_TEST_ADDR);
const require = createRequire(import.meta.url);
const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

const SIZES = [
  { name: 'laptop', viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  { name: 'phone', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 },
];

/** Runs axe-core in the page; fails on any serious or critical violation. */
async function assertAccessible(page, screen) {
  // evaluated through the debugging protocol, so the page's CSP does not apply
  await page.evaluate(`${axeSource}\n;void 0`);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe-core on ${screen}: ${JSON.stringify(bad, null, 1)}`);
}

/**
 * The layout of the meeting: every shown tile (camera and screen) lies in
 * the viewport with a real size, no two overlap, and the controls are in
 * the viewport too. Returns the number of tiles shown.
 */
async function assertLayout(page, what) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const r = await page.evaluate(() => {
    const box = (el) => {
      const b = el.getBoundingClientRect();
      return { x: b.x, y: b.y, w: b.width, h: b.height, id: el.getAttribute('data-participant') ?? el.getAttribute('data-testid') };
    };
    const shown = (el) => el.getClientRects().length > 0 && !el.closest('[hidden]');
    const tiles = [...document.querySelectorAll('[data-testid=tile], [data-testid=screen-tile]')].filter(shown).map(box);
    const controls = [...document.querySelectorAll('.controls button')].filter(shown).map(box);
    return { tiles, controls, vw: document.documentElement.clientWidth, vh: window.innerHeight };
  });
  const inside = (b) => b.w > 20 && b.h > 10 && b.x >= -0.5 && b.y >= -0.5 && b.x + b.w <= r.vw + 0.5 && b.y + b.h <= r.vh + 0.5;
  for (const t of r.tiles) assert.ok(inside(t), `${what}: tile ${t.id} is not fully in the ${r.vw}×${r.vh} viewport: ${JSON.stringify(t)}`);
  for (let i = 0; i < r.tiles.length; i++) {
    for (let j = i + 1; j < r.tiles.length; j++) {
      const a = r.tiles[i];
      const b = r.tiles[j];
      const ox = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const oy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      assert.ok(ox <= 0.5 || oy <= 0.5, `${what}: tiles ${a.id} and ${b.id} overlap`);
    }
  }
  assert.ok(r.controls.length >= 5, `${what}: controls missing`);
  for (const c of r.controls) assert.ok(inside(c), `${what}: control ${c.id} is not in the viewport: ${JSON.stringify(c)}`);
  return r.tiles.length;
}

/** Tab from the top of the page reaches every control of the bar. */
async function assertKeyboard(page, what) {
  const want = await page.evaluate(() =>
    [...document.querySelectorAll('.controls button')].filter((b) => b.getClientRects().length > 0 && !b.disabled).map((b) => b.getAttribute('data-testid')),
  );
  await page.evaluate(() => {
    document.activeElement?.blur?.();
    window.scrollTo(0, 0);
  });
  const reached = new Set();
  for (let i = 0; i < 120 && want.some((t) => !reached.has(t)); i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      // the focus ring must be there for the keyboard user
      const ring = getComputedStyle(el).outlineStyle !== 'none';
      return { id: el.getAttribute('data-testid'), ring };
    });
    if (id?.id) {
      reached.add(id.id);
      if (want.includes(id.id)) assert.ok(id.ring, `${what}: ${id.id} has focus but no visible focus ring`);
    }
  }
  assert.deepEqual(want.filter((t) => !reached.has(t)), [], `${what}: controls the Tab key never reached`);
}

/** Per subscribe m-line receive counters (the app's test hook). */
const inbound = (page) => page.evaluate(() => window.__conclave.inbound());

/** Sum of a Prometheus metric's samples (every label set). */
function metric(text, name) {
  let sum = null;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)$`).exec(line);
    if (m) sum = (sum ?? 0) + Number(m[1]);
  }
  return sum;
}

describe('the meeting app at laptop and phone size', { skip: inNamespace ? false : 'needs the network namespace of scripts/netns.sh (CONCLAVE_TEST_ADDR)' }, () => {
  let server;
  let browser;
  const people = new Map();

  before(async () => {
    await mkdir(artifacts, { recursive: true });
    server = await startServer({ extraArgs: ['--media-timeout', '10', '--metrics-from', 'any'] });
    browser = await launchBrowser();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.stop();
    }
  });

  async function diagnose() {
    const lines = [];
    for (const [name, w] of people) {
      try {
        lines.push(`${name}: inbound ${JSON.stringify(await inbound(w.page))}`);
      } catch (e) {
        lines.push(`${name}: ${e.message}`);
      }
      const warnings = w.console.filter((m) => m.type !== 'log' && m.type !== 'debug');
      if (warnings.length) lines.push(`${name} console: ${JSON.stringify(warnings.slice(-8))}`);
    }
    const metrics = (await server.metrics()).split('\n').filter((l) => l.startsWith('conclave_media'));
    lines.push('--- metrics ---', ...metrics, '--- server log (tail) ---', server.log().slice(-4000));
    return lines.join('\n');
  }

  async function closeAll() {
    for (const w of people.values()) await w.context.close().catch(() => undefined);
    people.clear();
  }

  /** Opens a page for `name` at `size`; guests come in with the full link (let in by their invite proof). */
  async function enter(meeting, name, size, { link = meeting.guest_link, query = {} } = {}) {
    const w = await watchedPage(browser, { viewport: size.viewport, deviceScaleFactor: size.deviceScaleFactor });
    people.set(name, w);
    await w.page.goto(withQuery(link, { name, join: '1', ...query }));
    await w.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible', timeout: 30_000 });
    return w;
  }

  /** Until `page` decodes video from every one of `ids`. */
  async function decodingFrom(who, page, ids) {
    await until(
      `${who} to decode the video of ${ids.join(', ')}`,
      async () => {
        const s = await page.evaluate(() => window.__conclave.stats());
        return ids.every((id) => (s[id]?.framesDecoded ?? 0) > 0);
      },
      { timeout: 45_000 },
    );
  }

  for (const size of SIZES) {
    test(`${size.name}: pre-join, lobby, a 4-person meeting, screen share and chat`, { timeout: 300_000 }, async (t) => {
      const shot = (w, what) => w.page.screenshot({ path: join(artifacts, `app-${size.name}-${what}.png`) });
      const meeting = await server.createMeeting();
      try {
        // ---- pre-join -----------------------------------------------------------
        const host = await watchedPage(browser, { viewport: size.viewport, deviceScaleFactor: size.deviceScaleFactor });
        people.set('host', host);
        await host.page.goto(meeting.host_link);
        const prejoin = host.page.locator('[data-testid=prejoin]');
        await prejoin.waitFor({ state: 'visible' });
        await until('the camera preview', () => host.page.evaluate(() => (document.querySelector('[data-testid=prejoin] video')?.videoWidth ?? 0) > 0));
        await shot(host, 'prejoin');
        await assertAccessible(host.page, `pre-join (${size.name})`);
        await prejoin.getByLabel('Your name').fill('Hanna Host');
        await prejoin.getByRole('button', { name: 'Join' }).click();
        await host.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
        const hostId = await selfId(host.page);

        // ---- lobby: a guest without the invite waits for the host ----------------
        const knocker = await watchedPage(browser, { viewport: size.viewport, deviceScaleFactor: size.deviceScaleFactor });
        people.set('Gustav', knocker);
        // keeps the shared screen's stream within reach of the test, to end it
        // the way the browser's own "Stop sharing" bar does
        await knocker.context.addInitScript(() => {
          const md = navigator.mediaDevices;
          const real = md.getDisplayMedia.bind(md);
          md.getDisplayMedia = async (c) => (window.__shared = await real(c));
        });
        await knocker.page.goto(withQuery(knockLink(meeting.guest_link), { name: 'Gustav Guest', join: '1' }));
        await knocker.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
        await shot(knocker, 'lobby');
        await assertAccessible(knocker.page, `lobby (${size.name})`);
        const knock = host.page.locator('[data-testid=knock]', { hasText: 'Gustav Guest' });
        await knock.locator('[data-testid=admit]').click();
        await knocker.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });

        // ---- four people -----------------------------------------------------------
        const g2 = await enter(meeting, 'Grete Guest', size);
        const g3 = await enter(meeting, 'Greta Gast', size);
        const all = [host, knocker, g2, g3];
        const ids = [];
        for (const w of all) ids.push(await selfId(w.page));
        for (const [i, w] of all.entries()) {
          await until('four tiles', () => w.page.locator('[data-testid=tile]').count().then((n) => n === 4));
          await decodingFrom(`participant ${i}`, w.page, ids.filter((_, j) => j !== i));
        }
        // everyone is in the encrypted group (the security code shows)
        await host.page.locator('[data-testid=security-code]').filter({ hasText: /\S/ }).waitFor({ state: 'visible' });
        assert.equal(await assertLayout(host.page, `${size.name} meeting`), 4);
        await assertLayout(g3.page, `${size.name} meeting (a guest)`);
        // the network-quality mark of every other member reaches the host
        await until('network quality of all members on the host tiles', () =>
          host.page.evaluate(() => [...document.querySelectorAll('[data-testid=tile] [data-testid=net-quality][data-level]')].length === 4),
        );
        // simulcast: the camera goes out as q, h and f, and every frame of
        // every encoding passed the SFrame transform of the camera's sender
        const layers = await host.page.evaluate(async () => {
          const out = (await window.__conclave.outbound()).filter((o) => o.kind === 'video');
          const sf = (await window.__conclave.e2ee()).sframe.transforms.filter((x) => x.role === 'send' && x.kind === 'video');
          return { out, sf };
        });
        assert.deepEqual(layers.out.map((o) => o.rid).sort(), ['f', 'h', 'q'], JSON.stringify(layers.out));
        assert.equal(layers.sf.length, 1);
        const encoded = layers.out.reduce((n, o) => n + o.framesEncoded, 0);
        // read a moment apart: the transform may have seen a few frames more or fewer
        assert.ok(
          encoded > 0 && Math.abs(layers.sf[0].frames - encoded) <= Math.max(15, encoded * 0.05),
          `frames encoded over all layers ${encoded}, frames through the transform ${layers.sf[0].frames}`,
        );
        await shot(host, 'meeting');
        await assertAccessible(host.page, `meeting (${size.name})`);
        await assertKeyboard(host.page, `${size.name} meeting`);

        // ---- speaker view: one large tile, a filmstrip of the others ----------------
        const toggle = host.page.locator('[data-testid=layout-toggle]');
        assert.equal(await toggle.getAttribute('data-layout'), 'grid');
        await toggle.click();
        assert.equal(await toggle.getAttribute('data-layout'), 'speaker');
        assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
        // the large tile is another member's (nobody has spoken yet, or the speaker)
        const main = host.page.locator('.stage-main [data-testid=tile]');
        await main.waitFor({ state: 'visible' });
        assert.notEqual(await main.getAttribute('data-self'), 'true');
        const mainBox = await main.boundingBox();
        const smallBox = await host.page.locator('.stage .grid [data-testid=tile]:not([hidden])').first().boundingBox();
        assert.ok(mainBox.width > 1.8 * smallBox.width, `the speaker's tile is large (${mainBox.width} vs ${smallBox.width})`);
        assert.equal(await assertLayout(host.page, `${size.name} speaker view`), 4);
        await shot(host, 'speaker-view');
        await assertAccessible(host.page, `speaker view (${size.name})`);
        await toggle.click();
        assert.equal(await toggle.getAttribute('data-layout'), 'grid');

        // ---- screen share ----------------------------------------------------------
        const sharerId = ids[1];
        const share = knocker.page.locator('[data-testid=screen]');
        await share.click();
        await until('the share button to say it shares', async () => (await share.getAttribute('aria-pressed')) === 'true');
        const screenFrames = async (w) => (await inbound(w.page)).find((x) => x.source === 'screen' && x.participant === sharerId)?.framesDecoded ?? 0;
        for (const [i, w] of [host, g2, g3].entries()) {
          await w.page.locator(`[data-testid=screen-tile][data-participant="${sharerId}"]`).waitFor({ state: 'visible', timeout: 30_000 });
          const first = await until(`viewer ${i} to decode the screen share`, () => screenFrames(w).then((n) => (n > 0 ? n : null)), { timeout: 30_000 });
          await until(`viewer ${i}: the screen share to keep coming`, () => screenFrames(w).then((n) => n > first), { timeout: 15_000 });
        }
        // the sharer encrypts two video senders (camera and screen) and sends from both
        const sframe = await knocker.page.evaluate(async () => (await window.__conclave.e2ee()).sframe);
        const videoSenders = sframe.transforms.filter((x) => x.role === 'send' && x.kind === 'video');
        assert.equal(videoSenders.length, 2, JSON.stringify(sframe.transforms));
        for (const s of videoSenders) assert.ok(s.passed > 0, `a video sender encrypted nothing: ${JSON.stringify(s)}`);
        // the share large, the four cameras in the filmstrip (three at a time on a phone)
        assert.equal(await assertLayout(host.page, `${size.name} screen share`), size.name === 'phone' ? 4 : 5);
        await shot(host, 'screen-share');
        await assertAccessible(host.page, `screen share (${size.name})`);
        // stopped with the same button: the tile goes everywhere
        await share.click();
        for (const w of [host, g2, g3]) await w.page.locator('[data-testid=screen-tile]').waitFor({ state: 'detached', timeout: 20_000 });
        // shared again (the same m-line, active again), then ended by the
        // browser (its source ends: the track stops and fires `ended`)
        await share.click();
        for (const w of [host, g2, g3]) await w.page.locator(`[data-testid=screen-tile][data-participant="${sharerId}"]`).waitFor({ state: 'visible', timeout: 30_000 });
        const again = await screenFrames(host);
        await until('the second share to be decoded', () => screenFrames(host).then((n) => n > again), { timeout: 20_000 });
        await knocker.page.evaluate(() => {
          const track = window.__shared.getVideoTracks()[0];
          track.stop();
          track.dispatchEvent(new Event('ended'));
        });
        await until('the share button to say it stopped', async () => (await share.getAttribute('aria-pressed')) === 'false');
        for (const w of [host, g2, g3]) await w.page.locator('[data-testid=screen-tile]').waitFor({ state: 'detached', timeout: 20_000 });

        // ---- chat ------------------------------------------------------------------------
        const text = `Agenda item ${size.name}: the draft stays confidential.`;
        await host.page.locator('[data-testid=chat-input]').fill(text);
        await host.page.locator('[data-testid=chat-send]').click();
        for (const w of [knocker, g2, g3]) await w.page.locator('[data-testid=chat-message]', { hasText: text }).waitFor({ state: 'attached' });
        await g2.page.locator('[data-testid=chat]').scrollIntoViewIfNeeded();
        await shot(g2, 'chat');
        await assertAccessible(g2.page, `chat (${size.name})`);
        assert.equal(await host.page.locator('[data-testid=chat-message][data-self=true]').count(), 1);
        assert.ok(hostId);
      } catch (e) {
        t.diagnostic(await diagnose());
        throw e;
      } finally {
        await closeAll();
      }
    });
  }

  test('the screen share is end-to-end encrypted: the tap sees only SFrame', { timeout: 180_000 }, async (t) => {
    const tapDir = await mkdtemp(join(tmpdir(), 'conclave-tap-'));
    const tapped = await startServer({ extraArgs: ['--test-tap', tapDir, '--insecure-test', '1', '--media-timeout', '10'] });
    let stopped = false;
    try {
      const laptop = SIZES[0];
      const meeting = await tapped.createMeeting();
      const sharer = await enter(meeting, 'Hanna Host', laptop, { link: meeting.host_link });
      const viewers = [await enter(meeting, 'Anton', laptop), await enter(meeting, 'Berta', laptop)];
      const sharerId = await selfId(sharer.page);
      await sharer.page.locator('[data-testid=screen]').click();
      const screenFrames = async (w) => (await inbound(w.page)).find((x) => x.source === 'screen' && x.participant === sharerId)?.framesDecoded ?? 0;
      for (const [i, w] of viewers.entries()) {
        await until(`viewer ${i} to decode 60 frames of the screen share`, () => screenFrames(w).then((n) => n >= 60), { timeout: 45_000 });
      }
      const e2ee = await sharer.page.evaluate(() => window.__conclave.e2ee());
      const screen = (await sharer.page.evaluate(() => window.__conclave.outbound())).filter((o) => o.kind === 'video' && o.rid === null);
      assert.equal(screen.length, 1, 'one video sender without simulcast: the screen');
      await tapped.stop(); // the tap is complete once the server has stopped
      stopped = true;
      const files = (await readdir(tapDir)).filter((f) => f.startsWith('media-'));
      const records = tapRecords(Buffer.concat(await Promise.all(files.map((f) => readFile(join(tapDir, f))))));
      const frames = tapVp8Frames(records.filter((r) => r.ssrc === screen[0].ssrc));
      assert.ok(frames.length >= 60, `the tap holds the screen share (${frames.length} frames)`);
      for (const f of frames) {
        const h = sframeHeader(f);
        assert.ok(h, 'a forwarded screen frame without an SFrame header');
        assert.equal(h.kid >> 4n, BigInt(e2ee.ownLeaf), `KID ${h.kid}: not the sharer's leaf ${e2ee.ownLeaf}`);
        assert.ok(f.length >= h.length + 16, 'room for the AEAD tag');
        // a VP8 key frame in the clear has the start code 9d 01 2a at bytes 3–5
        assert.ok(!(f[3] === 0x9d && f[4] === 0x01 && f[5] === 0x2a), 'a VP8 start code in the clear');
      }
      t.diagnostic(`tap: ${frames.length} screen-share frames forwarded, all SFrame under the sharer's KID`);
    } catch (e) {
      t.diagnostic(await diagnose());
      throw e;
    } finally {
      await closeAll();
      if (!stopped) await tapped.stop();
      await rm(tapDir, { recursive: true, force: true });
    }
  });

  test('a video held back for bandwidth is marked on its tile, and the mark goes when it recovers', { timeout: 120_000 }, async (t) => {
    const laptop = SIZES[0];
    const meeting = await server.createMeeting();
    try {
      const host = await enter(meeting, 'Hanna Host', laptop, { link: meeting.host_link });
      const hostId = await selfId(host.page);
      // the guest's signaling passes through the test, which can add server messages
      const w = await watchedPage(browser, { viewport: laptop.viewport });
      people.set('Gustav', w);
      let toPage = null;
      await w.page.routeWebSocket(/\/ws$/, (ws) => {
        ws.connectToServer();
        toPage = (msg) => ws.send(JSON.stringify(msg));
      });
      await w.page.goto(withQuery(meeting.guest_link, { name: 'Gustav Guest', join: '1' }));
      await w.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
      await decodingFrom('the guest', w.page, [hostId]);
      const mid = (await inbound(w.page)).find((x) => x.participant === hostId && x.source === 'camera')?.mid;
      assert.ok(mid && toPage);
      const mark = w.page.locator(`[data-testid=tile][data-participant="${hostId}"] [data-testid=quality-limited]`);
      assert.equal(await mark.isVisible(), false);
      toPage({ type: 'video_quality', mid, layer: -1, reason: 'bandwidth' });
      await mark.waitFor({ state: 'visible' });
      assert.equal(await mark.textContent(), 'Video paused: poor connection');
      await assertAccessible(w.page, 'a tile with the bandwidth mark');
      toPage({ type: 'video_quality', mid, layer: 0, reason: 'bandwidth' });
      await until('the mark to say reduced', async () => (await mark.textContent()) === 'Video reduced: poor connection');
      // held back by our own view is no news; recovered is no news either
      toPage({ type: 'video_quality', mid, layer: 0, reason: 'view' });
      await mark.waitFor({ state: 'hidden' });
      toPage({ type: 'video_quality', mid, layer: 0, reason: 'bandwidth' });
      await mark.waitFor({ state: 'visible' });
      toPage({ type: 'video_quality', mid, layer: 2, reason: 'ok' });
      await mark.waitFor({ state: 'hidden' });
    } catch (e) {
      t.diagnostic(await diagnose());
      throw e;
    } finally {
      await closeAll();
    }
  });

  test('six people, seen on a phone: pages, and the server pauses the video of the other page', { timeout: 300_000 }, async (t) => {
    const phone = SIZES[1];
    const meeting = await server.createMeeting();
    try {
      // all six on phones (the five others at a device pixel ratio of 1, so
      // they ask for the smallest layer: six browsers on two cores), the
      // phone under test at 2. This is about video: the microphones stay
      // off, and the phone under test sends no camera of its own (six pages
      // each encoding and decoding audio as well starved the receiving page
      // on a slower two-core machine until its bandwidth estimate collapsed)
      const small = { ...phone, deviceScaleFactor: 1 };
      const quiet = { mic: '0' };
      const others = [];
      others.push(await enter(meeting, 'Hanna Host', small, { link: meeting.host_link, query: quiet }));
      for (const name of ['Anton', 'Berta', 'Carla', 'Dora']) others.push(await enter(meeting, name, small, { query: quiet }));
      const viewer = await enter(meeting, 'Paula Phone', phone, { query: { ...quiet, cam: '0' } });
      const otherIds = [];
      for (const w of others) otherIds.push(await selfId(w.page));
      await until('six tiles on the phone', () => viewer.page.locator('[data-testid=tile]').count().then((n) => n === 6));
      const indicator = viewer.page.locator('[data-testid=page-indicator]');
      await indicator.waitFor({ state: 'visible' });
      assert.equal(await indicator.textContent(), 'Page 1 of 2');
      await assertLayout(viewer.page, 'phone, page 1');
      await viewer.page.screenshot({ path: join(artifacts, 'app-phone-paged.png') });
      await assertKeyboard(viewer.page, 'phone, page 1');
      await assertAccessible(viewer.page, 'paged meeting (phone)');

      /** The remote members whose tiles the phone shows now. */
      const shownIds = () =>
        viewer.page.evaluate(() =>
          [...document.querySelectorAll('[data-testid=tile]:not([data-self])')].filter((el) => !el.hidden).map((el) => el.getAttribute('data-participant')),
        );
      /** The latest `video_quality` the server sent the phone, per subscribe mid. */
      const qualities = () => {
        const last = {};
        for (const f of viewer.frames) {
          if (f.dir !== 'in' || !f.payload.includes('"video_quality"')) continue;
          const m = JSON.parse(f.payload);
          last[m.mid] = m;
        }
        return last;
      };
      const cameraMids = async () => Object.fromEntries((await inbound(viewer.page)).filter((x) => x.source === 'camera').map((x) => [x.participant, x.mid]));
      /** Camera bytes per member over one interval, measured on the phone. */
      const cameraBytes = async () => Object.fromEntries((await inbound(viewer.page)).filter((x) => x.source === 'camera').map((x) => [x.participant, x.bytesReceived]));

      const checkPage = async (label) => {
        const shown = await shownIds();
        const hidden = otherIds.filter((id) => !shown.includes(id));
        assert.ok(shown.length >= 2 && hidden.length >= 2, `${label}: shown ${shown}, hidden ${hidden}`);
        // the server says it paused exactly the hidden ones for the phone, because of its view
        const mids = await until(`${label}: the camera m-lines of the others on the phone`, async () => {
          const m = await cameraMids();
          return otherIds.every((id) => m[id]) ? m : null;
        });
        await until(
          `${label}: video_quality paused by the view for ${hidden} and only for them`,
          async () => {
            const q = qualities();
            const paused = (id) => q[mids[id]]?.layer === -1 && q[mids[id]]?.reason === 'view';
            return hidden.every(paused) && !shown.some(paused);
          },
          { timeout: 20_000, interval: 250 },
        );
        const gauge = await until(`${label}: conclave_media_paused_streams ≥ ${hidden.length}`, async () => {
          const n = metric(await server.metrics(), 'conclave_media_paused_streams');
          return n !== null && n >= hidden.length ? n : null;
        });
        t.diagnostic(`${label}: ${hidden.length} tiles hidden on the phone; conclave_media_paused_streams ${gauge}`);
        // the shown ones have video (decoded), the hidden ones stop growing
        await decodingFrom(`the phone (${label})`, viewer.page, shown);
        // (a shown video the server holds back for bandwidth, and says so,
        // may stand still: that is its congestion control, not the view;
        // at least one shown video must flow)
        let seen = null;
        await until(
          `${label}: no video of the hidden tiles arriving while the shown ones keep coming`,
          async () => {
            const a = await cameraBytes();
            await new Promise((r) => setTimeout(r, 1000)); // one measuring interval, not a wait for an event
            const b = await cameraBytes();
            const q = qualities();
            const held = (id) => q[mids[id]]?.reason === 'bandwidth';
            seen = { before: a, after: b, quality: Object.fromEntries(otherIds.map((id) => [id, q[mids[id]] ?? null])) };
            return hidden.every((id) => b[id] === a[id]) && shown.every((id) => b[id] > a[id] || held(id)) && shown.some((id) => b[id] > a[id]);
          },
          { timeout: 30_000, interval: 0 },
        ).catch((e) => {
          throw new Error(`${e.message}\nlast interval: ${JSON.stringify(seen)}`);
        });
        return { shown, hidden };
      };

      const first = await checkPage('page 1');
      await viewer.page.locator('[data-testid=page-next]').click();
      assert.equal(await indicator.textContent(), 'Page 2 of 2');
      await assertLayout(viewer.page, 'phone, page 2');
      const second = await checkPage('page 2');
      // the page turned: the hidden members of page 1 are shown now
      assert.deepEqual([...second.shown].sort(), first.hidden.filter((id) => !second.hidden.includes(id)).sort());
    } catch (e) {
      t.diagnostic(await diagnose());
      throw e;
    } finally {
      await closeAll();
    }
  });
});
