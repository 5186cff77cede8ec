// A real meeting in Chromium against conclave: a host and two guests (let in
// by the host through the lobby list), each decoding the others' video and
// receiving their audio through the SFU; a fourth who joins late and must
// see the others within 2 s; and one who leaves, whose tile then goes away
// everywhere.
//
// Media needs a non-loopback address (Chromium gathers no ICE candidates on
// loopback), so this test runs only inside the network namespace of
// scripts/netns.sh (CONCLAVE_TEST_ADDR set): `make browser`, or
//   cd tests && ../scripts/netns.sh node --test --test-concurrency=1 browser/
//
// Progress is polled with deadlines, never with fixed sleeps; on failure
// the server's log, its conclave_media_* metrics and each page's receive
// statistics and ICE states are printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  artifacts,
  assertClean,
  assertReceiving,
  iceStates as ice,
  knockLink,
  launchBrowser,
  mediaStats as stats,
  selfId,
  startServer,
  testAddr,
  until,
  watchedPage,
  withQuery,
} from './harness.mjs';

const inNamespace = Boolean(process.env.CONCLAVE_TEST_ADDR);

describe('a meeting with media', { skip: inNamespace ? false : 'needs the network namespace of scripts/netns.sh (CONCLAVE_TEST_ADDR)' }, () => {
  let server;
  let browser;
  const pages = new Map();

  before(async () => {
    server = await startServer({ extraArgs: ['--media-timeout', '5', '--log-level', 'debug', '--metrics-from', 'any'] });
    browser = await launchBrowser();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.stop();
    }
  });

  /** Everything that helps to see why media did not flow. */
  async function diagnose() {
    const lines = [];
    for (const [name, w] of pages) {
      try {
        lines.push(`${name}: ice ${JSON.stringify(await ice(w.page))} stats ${JSON.stringify(await stats(w.page))}`);
      } catch (e) {
        lines.push(`${name}: ${e.message}`);
      }
      const warnings = w.console.filter((m) => m.type !== 'log' && m.type !== 'debug');
      if (warnings.length) lines.push(`${name} console: ${JSON.stringify(warnings.slice(-10))}`);
    }
    const metrics = (await server.metrics()).split('\n').filter((l) => l.startsWith('conclave_media') || l.startsWith('conclave_sig_errors'));
    lines.push('--- metrics ---', ...metrics, '--- server log (tail) ---', server.log().slice(-6000));
    return lines.join('\n');
  }

  test('host, two guests let in through the lobby, a late fourth, and one leaving', { timeout: 180_000 }, async (t) => {
    const meeting = await server.createMeeting();
    assert.ok(meeting.host_link.startsWith(`https://${testAddr}:`));
    const open = async (name) => {
      const w = await watchedPage(browser);
      pages.set(name, w);
      return w;
    };
    try {
      const host = await open('host');
      await host.page.goto(withQuery(meeting.host_link, { name: 'Hanna Host', join: '1' }));
      await host.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
      const hostId = await selfId(host.page);

      // Two guests knock; the host sees them in the lobby list and lets them in.
      const admit = async (name) => {
        const w = await open(name);
        await w.page.goto(withQuery(knockLink(meeting.guest_link), { name, join: '1' }));
        await w.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
        const knock = host.page.locator('[data-testid=knock]', { hasText: name });
        await knock.waitFor({ state: 'visible' });
        assert.equal(await knock.locator('[data-testid=deny]').isVisible(), true);
        await knock.locator('[data-testid=admit]').click();
        await knock.waitFor({ state: 'detached' });
        return w;
      };
      const g1 = await admit('Gustav Guest');
      const g2 = await admit('Grete Guest');
      for (const w of [g1, g2]) await w.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
      const g1Id = await selfId(g1.page);
      const g2Id = await selfId(g2.page);
      const three = [
        ['host', host, hostId],
        ['Gustav', g1, g1Id],
        ['Grete', g2, g2Id],
      ];

      // Everyone has a tile and a roster entry for everyone.
      for (const [, w] of three) {
        for (const [, , id] of three) {
          await w.page.locator(`[data-testid=tile][data-participant="${id}"]`).waitFor({ state: 'attached' });
          await w.page.locator(`[data-testid=roster] [data-testid=member][data-participant="${id}"][data-in-group=true]`).waitFor({ state: 'attached' });
        }
        assert.equal(await w.page.locator('[data-testid=tile]').count(), 3);
      }

      // Everyone decodes the other two's video and receives their audio.
      for (const [name, w, id] of three) {
        await assertReceiving(name, w.page, three.map((x) => x[2]).filter((x) => x !== id));
      }

      // A fourth joins late. Measured in its page, by the events' own times
      // (performance.now() when dispatched): from its subscribe connection
      // becoming "connected" (ICE and DTLS: media can flow) to the first
      // frame ("loadeddata") of each of the three remote tiles. Polling
      // getStats() instead adds its own lag to both ends (a poll took up to
      // seconds on a busy two-core machine); the events wait behind the same
      // main thread, so that lag mostly cancels out.
      const late = await open('Lotte Late');
      await late.context.addInitScript(() => {
        const log = { ice: [], pc: [], frames: {}, longTasks: [] };
        window.__lateLog = log;
        // main-thread tasks of 50 ms and more (events wait behind them)
        new PerformanceObserver((l) => {
          for (const e of l.getEntries()) log.longTasks.push([Math.round(e.startTime), Math.round(e.duration)]);
        }).observe({ type: 'longtask' });
        const Native = window.RTCPeerConnection;
        window.RTCPeerConnection = class extends Native {
          constructor(...args) {
            super(...args);
            const side = () => (this.getTransceivers().some((t) => t.direction.startsWith('send')) ? 'publish' : 'subscribe');
            this.addEventListener('iceconnectionstatechange', () => log.ice.push({ side: side(), state: this.iceConnectionState, at: performance.now() }));
            this.addEventListener('connectionstatechange', () => log.pc.push({ side: side(), state: this.connectionState, at: performance.now() }));
          }
        };
        const watch = (v) => {
          if (v.__watched) return;
          v.__watched = true;
          v.addEventListener('loadeddata', () => {
            const id = v.closest('[data-testid=tile]')?.dataset.participant;
            if (id && log.frames[id] === undefined) log.frames[id] = performance.now();
          });
        };
        new MutationObserver((records) => {
          for (const r of records) {
            for (const n of r.addedNodes) {
              if (n.nodeType !== 1) continue;
              if (n.localName === 'video') watch(n);
              else n.querySelectorAll('video').forEach(watch);
            }
          }
        }).observe(document, { childList: true, subtree: true });
      });
      await late.page.goto(withQuery(knockLink(meeting.guest_link), { name: 'Lotte Late', join: '1' }));
      await late.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
      const others = [hostId, g1Id, g2Id];
      const timing = late.page.evaluate(async (ids) => {
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        const limit = performance.now() + 60_000;
        const ready = () => document.querySelector('[data-testid=in-meeting]') && ids.every((id) => document.querySelector(`[data-testid=tile][data-participant="${id}"]`));
        while (!ready()) {
          if (performance.now() > limit) return { error: 'never in the meeting with all tiles' };
          await sleep(10);
        }
        const t0 = performance.now();
        const wall0 = Date.now();
        const at = () => Math.round(performance.now() - t0);
        const log = window.__lateLog;
        const rel = (x) => (x === undefined ? undefined : Math.round(x - t0));
        // For the report only (ms after t0, as polled): per publisher, video
        // bytes arriving, a frame dropped undecrypted, one decrypted, one
        // decoded; when this page got the epoch key and asked for key frames.
        const steps = Object.fromEntries(ids.map((id) => [id, {}]));
        const mark = (o, k) => {
          if (o[k] === undefined) o[k] = at();
        };
        const page = { keyFrameRequests: [] };
        let s = {};
        while (performance.now() - t0 < 20_000) {
          s = await window.__conclave.stats();
          const [inbound, e2ee] = await Promise.all([window.__conclave.inbound(), window.__conclave.e2ee()]);
          for (const m of inbound) if (m.kind === 'video' && m.bytesReceived > 0 && steps[m.participant]) mark(steps[m.participant], 'bytes');
          for (const x of e2ee?.sframe?.transforms ?? []) {
            if (x.role === 'recv' && x.kind === 'video' && steps[x.participant]) {
              if (x.dropped > 0) mark(steps[x.participant], 'dropped');
              if (x.passed > 0) mark(steps[x.participant], 'decrypted');
            }
          }
          if (e2ee?.epochSince && page.key === undefined) page.key = e2ee.epochSince - wall0;
          page.waited = `${e2ee?.sframe?.waitedOk ?? 0} of ${e2ee?.sframe?.waited ?? 0}`;
          const kfr = e2ee?.sframe?.keyFrameRequests ?? 0;
          while (page.keyFrameRequests.length < kfr) page.keyFrameRequests.push(at());
          for (const id of ids) if ((s[id]?.framesDecoded ?? 0) > 0) mark(steps[id], 'decoded');
          if (ids.every((id) => (s[id]?.framesDecoded ?? 0) > 0 && log.frames[id] !== undefined)) {
            const ev = {
              iceConnected: rel(log.ice.find((e) => e.side === 'subscribe' && (e.state === 'connected' || e.state === 'completed'))?.at),
              dtlsConnected: rel(log.pc.find((e) => e.side === 'subscribe' && e.state === 'connected')?.at),
              frames: Object.fromEntries(ids.map((id) => [id, rel(log.frames[id])])),
              longTasks: log.longTasks.filter(([start, d]) => start + d > t0).map(([start, d]) => [rel(start), d]),
            };
            return { wall0, steps, page, ev };
          }
          await sleep(250); // light: this page is the one measured
        }
        return { error: 'no decoded frames within 20 s', stats: s, ice: window.__conclave.ice(), steps, page, log };
      }, others);
      const knock = host.page.locator('[data-testid=knock]', { hasText: 'Lotte Late' });
      await knock.waitFor({ state: 'visible' });
      await mkdir(artifacts, { recursive: true });
      await host.page.screenshot({ path: join(artifacts, 'meeting-knock.png'), fullPage: true });
      await knock.locator('[data-testid=admit]').click();
      const measured = await timing;
      assert.ok(measured.ev !== undefined, `late joiner: ${JSON.stringify(measured)}`);
      // When each of the three began to send under the epoch that has the
      // late joiner in it (ms after the late joiner's t0, same clock).
      const switched = {};
      for (const [name, w] of three) {
        const e = await w.page.evaluate(() => window.__conclave.e2ee());
        switched[name] = e?.sframe?.sentEpochSince ? e.sframe.sentEpochSince - measured.wall0 : null;
      }
      const keyMetrics = (await server.metrics()).split('\n').filter((l) => /^conclave_media_(pli|dtls)/.test(l));
      const { ev } = measured;
      const last = Math.max(...others.map((id) => ev.frames[id]));
      const timeline =
        `late joiner, ms after its tiles appeared: subscribe ICE connected ${ev.iceConnected}, DTLS connected ${ev.dtlsConnected}, ` +
        `first frames ${JSON.stringify(ev.frames)}; main-thread tasks over 50 ms [start, ms] ${JSON.stringify(ev.longTasks)}; ` +
        `as polled: ${JSON.stringify(measured.steps)}, epoch key at ${measured.page.key}, key frame requests at ${JSON.stringify(measured.page.keyFrameRequests)}, ` +
        `frames that waited for their key and then decrypted: ${measured.page.waited}; ` +
        `the others sent under the new epoch from ${JSON.stringify(switched)}; ${keyMetrics.join(', ')}`;
      t.diagnostic(
        `late joiner: first frame of all three others ${last - ev.dtlsConnected} ms after its subscribe connection connected ` +
          `(${last - ev.iceConnected} ms after its ICE connected)`,
      );
      t.diagnostic(timeline);
      // From a connected subscribe connection on, a picture of every
      // publisher is the server's to deliver: it asks for their key frames
      // the moment the subscriber's DTLS is up and starts each video at
      // one. Setting up the page's connections before that is the browser's
      // own CPU (seconds on a busy two-core machine: the first
      // RTCPeerConnection of a page starts WebRTC; its DTLS client took
      // 0.1-0.9 s after ICE here), so it is only reported, and bounded by
      // the 20 s above. The server's share of it is kept short: it answers
      // a ClientHello that came before the browser's answer as soon as the
      // answer is there, and the client sends the answer without waiting
      // for setLocalDescription.
      assert.ok(ev.dtlsConnected !== undefined, `late joiner: subscribe connection never seen connected: ${timeline}`);
      assert.ok(
        last - ev.dtlsConnected <= 2000,
        `late joiner: first frames of all three others ${last - ev.dtlsConnected} ms after its subscribe connection connected (limit 2000 ms)\n${timeline}`,
      );
      const lateId = await selfId(late.page);
      const four = [...three, ['Lotte', late, lateId]];
      // The others see and decode the newcomer too.
      for (const [name, w, id] of four) {
        assert.equal(await w.page.locator('[data-testid=tile]').count(), 4, `${name} has four tiles`);
        if (id !== lateId) await assertReceiving(name, w.page, [lateId]);
      }
      await assertReceiving('Lotte', late.page, others);

      // Every remote tile plays a picture (with sound, unless the browser
      // holds sound back until a click, which the page then offers).
      for (const [name, w] of four) {
        await w.page.waitForFunction(() =>
          [...document.querySelectorAll('[data-testid=tile]:not([data-self]) video')].every((v) => v.videoWidth > 0 && !v.paused),
        );
        const sound = await w.page.evaluate(() => ({
          muted: [...document.querySelectorAll('[data-testid=tile]:not([data-self]) video')].filter((v) => v.muted).length,
          offered: !document.querySelector('.sound-bar')?.hidden,
        }));
        t.diagnostic(`${name}: ${sound.muted} of 3 remote tiles muted by the autoplay policy; "Turn on sound" ${sound.offered ? 'offered' : 'not needed'}`);
        assert.equal(sound.muted > 0, sound.offered);
      }
      await mkdir(artifacts, { recursive: true });
      await host.page.screenshot({ path: join(artifacts, 'meeting-4.png'), fullPage: true });

      // Gustav leaves: his tile and roster entry go away everywhere.
      await g1.page.locator('[data-testid=leave]').click();
      await g1.page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      for (const [name, w] of [four[0], four[2], four[3]]) {
        await w.page.locator(`[data-testid=tile][data-participant="${g1Id}"]`).waitFor({ state: 'detached' });
        await w.page.locator(`[data-testid=member][data-participant="${g1Id}"]`).waitFor({ state: 'detached' });
        assert.equal(await w.page.locator('[data-testid=tile]').count(), 3, `${name} has three tiles`);
      }
      // Media keeps flowing among the three who stayed.
      for (const [name, w, id] of [four[0], four[2], four[3]]) {
        await assertReceiving(name, w.page, [hostId, g2Id, lateId].filter((x) => x !== id));
      }
      await host.page.screenshot({ path: join(artifacts, 'meeting-3.png'), fullPage: true });

      for (const w of pages.values()) await assertClean(w, server.base);
    } catch (e) {
      e.message += `\n${await diagnose()}`;
      throw e;
    } finally {
      await mkdir(artifacts, { recursive: true });
      await writeFile(join(artifacts, 'meeting-server.log'), server.log());
      await writeFile(join(artifacts, 'meeting-metrics.txt'), await server.metrics());
      for (const w of pages.values()) await w.context.close();
      pages.clear();
    }
  });
  test('a guest turned away; a camera turned on after joining is published; off and on again needs no new offer', { timeout: 120_000 }, async () => {
    const meeting = await server.createMeeting();
    try {
      const host = await watchedPage(browser);
      pages.set('host', host);
      await host.page.goto(withQuery(meeting.host_link, { name: 'Hanna Host', join: '1', cam: '0' }));
      await host.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
      const hostId = await selfId(host.page);

      // A guest the host turns away is told so, and leaves the lobby list.
      const denied = await watchedPage(browser);
      pages.set('denied', denied);
      await denied.page.goto(withQuery(knockLink(meeting.guest_link), { name: 'Dora Denied', join: '1', cam: '0', mic: '0' }));
      await denied.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
      const knock = host.page.locator('[data-testid=knock]', { hasText: 'Dora Denied' });
      await knock.locator('[data-testid=deny]').click();
      await denied.page.getByRole('heading', { name: 'You were not let in' }).waitFor();
      await knock.waitFor({ state: 'detached' });
      assert.equal(await denied.page.locator('[data-testid=in-meeting]').count(), 0);

      const guest = await watchedPage(browser);
      pages.set('guest', guest);
      await guest.page.goto(withQuery(knockLink(meeting.guest_link), { name: 'Gustav Guest', join: '1' }));
      await guest.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
      await host.page.locator('[data-testid=knock]', { hasText: 'Gustav Guest' }).locator('[data-testid=admit]').click();
      await guest.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
      const guestId = await selfId(guest.page);
      await assertReceiving('host', host.page, [guestId]);

      // The host's microphone arrives; its tile says the camera is off.
      const hostTile = guest.page.locator(`[data-testid=tile][data-participant="${hostId}"]`);
      await until('audio from the host', async () => ((await stats(guest.page))[hostId]?.audioBytesReceived ?? 0) > 0);
      assert.match((await hostTile.getAttribute('class')) ?? '', /\bis-off\b/);
      assert.equal((await stats(guest.page))[hostId].framesDecoded, 0);
      const publishes = () => host.frames.filter((f) => f.dir === 'out' && JSON.parse(f.payload).type === 'publish').length;
      assert.equal(publishes(), 1);

      // Camera on: a new transceiver, so one more offer; the guest sees the host.
      await host.page.locator('[data-testid=camera]').click();
      await assertReceiving('guest', guest.page, [hostId]);
      await until('the host tile to show a picture', async () => !/\bis-off\b/.test((await hostTile.getAttribute('class')) ?? ''));
      assert.equal(publishes(), 2);

      // Off and on again swaps the sender's track: no offer, and the picture comes back.
      await host.page.locator('[data-testid=camera]').click();
      assert.equal(await host.page.locator('[data-testid=camera]').getAttribute('aria-pressed'), 'false');
      const before = (await stats(guest.page))[hostId].framesDecoded;
      await host.page.locator('[data-testid=camera]').click();
      await until('frames from the host after the camera came back', async () => (await stats(guest.page))[hostId].framesDecoded > before + 10);
      assert.equal(publishes(), 2);
      for (const w of pages.values()) await assertClean(w, server.base);
    } catch (e) {
      e.message += `\n${await diagnose()}`;
      throw e;
    } finally {
      for (const w of pages.values()) await w.context.close();
      pages.clear();
    }
  });
});
