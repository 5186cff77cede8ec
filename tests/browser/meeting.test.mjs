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

      // A fourth joins late. Measured in the page: from the moment it is in
      // the meeting with the three remote tiles to the first decoded frame
      // of each of them.
      const late = await open('Lotte Late');
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
        let s = {};
        let connected;
        while (performance.now() - t0 < 20_000) {
          s = await window.__conclave.stats();
          const state = window.__conclave.ice().subscribe;
          if (connected === undefined && (state === 'connected' || state === 'completed')) connected = Math.round(performance.now() - t0);
          if (ids.every((id) => (s[id]?.framesDecoded ?? 0) > 0)) return { ms: Math.round(performance.now() - t0), connected };
          await sleep(20);
        }
        return { error: 'no decoded frames within 20 s', stats: s, ice: window.__conclave.ice() };
      }, others);
      const knock = host.page.locator('[data-testid=knock]', { hasText: 'Lotte Late' });
      await knock.waitFor({ state: 'visible' });
      await mkdir(artifacts, { recursive: true });
      await host.page.screenshot({ path: join(artifacts, 'meeting-knock.png'), fullPage: true });
      await knock.locator('[data-testid=admit]').click();
      const measured = await timing;
      assert.ok(measured.ms !== undefined, `late joiner: ${JSON.stringify(measured)}`);
      t.diagnostic(
        `late joiner: first decoded frame from all three others ${measured.ms} ms after its tiles appeared ` +
          `(subscribe connection connected after ${measured.connected ?? '?'} ms)`,
      );
      // What the server answers for is the time from a connected subscribe
      // connection to a key frame of every publisher: it asks for them when
      // the subscriber arrives. Setting up the page's connections before
      // that is the browser's own CPU (seconds on a busy two-core machine:
      // the first RTCPeerConnection of a page starts WebRTC), so it is only
      // reported, and bounded by the 20 s above.
      assert.ok(measured.connected !== undefined, `late joiner: subscribe connection never seen connected: ${JSON.stringify(measured)}`);
      assert.ok(
        measured.ms - measured.connected <= 2000,
        `late joiner: first frames of all three others ${measured.ms - measured.connected} ms after its subscribe connection connected (limit 2000 ms)`,
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
