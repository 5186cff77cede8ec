// Media outages in Chromium against conclave: UDP to the media worker is
// dropped for a while (signaling stays up), by a routing rule inside the
// throw-away network namespace of scripts/netns.sh.
//
//   - a short outage: the clients restart ICE and media flows again;
//   - an outage longer than --media-timeout: the server takes the members
//     out of the meeting ({"type":"left","reason":"media_timeout"}), the
//     page says so and offers to join again, and joining again works.
//
//   cd tests && ../scripts/netns.sh node --test --test-concurrency=1 browser/
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  artifacts,
  assertReceiving,
  blockUdpTo,
  iceStates,
  knockLink,
  launchBrowser,
  mediaStats,
  selfId,
  startServer,
  until,
  watchedPage,
  withQuery,
} from './harness.mjs';

const inNamespace = Boolean(process.env.CONCLAVE_NETNS && process.env.CONCLAVE_TEST_ADDR);

/** A host in the meeting and a guest it let in; resolves to both pages and ids. */
async function twoInMeeting(browser, server) {
  const meeting = await server.createMeeting();
  const host = await watchedPage(browser);
  const guest = await watchedPage(browser);
  await host.page.goto(withQuery(meeting.host_link, { name: 'Hanna Host', join: '1' }));
  await host.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
  await guest.page.goto(withQuery(knockLink(meeting.guest_link), { name: 'Gustav Guest', join: '1' }));
  await guest.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
  await host.page.locator('[data-testid=knock]', { hasText: 'Gustav Guest' }).locator('[data-testid=admit]').click();
  await guest.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
  const hostId = await selfId(host.page);
  const guestId = await selfId(guest.page);
  await assertReceiving('host', host.page, [guestId]);
  await assertReceiving('guest', guest.page, [hostId]);
  return { meeting, host, guest, hostId, guestId };
}

describe('media outages', { skip: inNamespace ? false : 'needs the network namespace of scripts/netns.sh (CONCLAVE_NETNS)' }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  /** Runs body with a fresh server; keeps its log as an artifact and prints it on failure. */
  async function withServer(name, args, body) {
    const server = await startServer({ extraArgs: ['--log-level', 'debug', '--metrics-from', 'any', ...args] });
    try {
      await body(server);
    } catch (e) {
      e.message += `\n--- server log (tail) ---\n${server.log().slice(-6000)}`;
      throw e;
    } finally {
      await mkdir(artifacts, { recursive: true });
      await writeFile(join(artifacts, `${name}-server.log`), server.log());
      await server.stop();
    }
  }

  test('after a short outage ICE restarts and media flows again', { timeout: 120_000 }, async (t) => {
    await withServer('recovery-restart', ['--media-timeout', '20'], async (server) => {
      const { host, guest, hostId, guestId } = await twoInMeeting(browser, server);
      try {
        const unblock = await blockUdpTo(server.mediaPort);
        let seen;
        try {
          // Both sides notice: some connection leaves connected/completed.
          seen = await until(
            'an ICE connection to notice the outage',
            async () => {
              const [a, b] = await Promise.all([iceStates(host.page), iceStates(guest.page)]);
              const all = [a.publish, a.subscribe, b.publish, b.subscribe];
              return all.some((s) => s === 'disconnected' || s === 'failed') ? { host: a, guest: b } : null;
            },
            { timeout: 15_000, interval: 200 },
          );
          // Long enough for the restart to be attempted (DISCONNECTED_GRACE_MS is 2 s).
          await until('the restart to be asked for', () => /ICE restart/.test(server.log()), { timeout: 10_000, interval: 200 });
        } finally {
          await unblock();
        }
        t.diagnostic(`during the outage: ${JSON.stringify(seen)}`);
        await until(
          'all connections to be connected again',
          async () => {
            const [a, b] = await Promise.all([iceStates(host.page), iceStates(guest.page)]);
            return [a.publish, a.subscribe, b.publish, b.subscribe].every((s) => s === 'connected' || s === 'completed');
          },
          { timeout: 20_000, interval: 200 },
        );
        await assertReceiving('host', host.page, [guestId]);
        await assertReceiving('guest', guest.page, [hostId]);
        assert.equal(await host.page.locator('[data-testid=in-meeting]').count(), 1);
        assert.equal(await guest.page.locator('[data-testid=in-meeting]').count(), 1);
        const restarts = server.log().match(/ICE restart \((publish|subscribe)\)/g) ?? [];
        t.diagnostic(`server saw ${restarts.length} ICE restarts: ${[...new Set(restarts)].join(', ')}`);
        assert.ok(restarts.length > 0);
      } finally {
        await host.context.close();
        await guest.context.close();
      }
    });
  });

  test('after a long outage the server takes members out, and they can join again', { timeout: 120_000 }, async () => {
    await withServer('recovery-timeout', ['--media-timeout', '3'], async (server) => {
      const { host, guest } = await twoInMeeting(browser, server);
      try {
        const unblock = await blockUdpTo(server.mediaPort);
        try {
          for (const w of [host, guest]) {
            await w.page.getByRole('heading', { name: 'Your audio and video connection was lost' }).waitFor({ timeout: 20_000 });
          }
        } finally {
          await unblock();
        }
        assert.equal(await host.page.locator('[data-testid=in-meeting]').count(), 0);
        const received = host.frames.filter((f) => f.dir === 'in').map((f) => JSON.parse(f.payload));
        assert.ok(received.some((m) => m.type === 'left' && m.reason === 'media_timeout'), 'the server said why');
        // The page has stopped its media: no subscribe stats, no connections.
        assert.deepEqual(await mediaStats(host.page), {});
        assert.deepEqual(await iceStates(host.page), { publish: 'none', subscribe: 'none' });

        // Joining again: the host is back in at once, with a working camera.
        await host.page.getByRole('button', { name: 'Join again' }).click();
        await host.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
        await until('the host to publish again', async () => {
          const s = await iceStates(host.page);
          return s.publish === 'connected' || s.publish === 'completed';
        });
        // The guest knocks again and is let in again; both see each other.
        await guest.page.getByRole('button', { name: 'Join again' }).click();
        await guest.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
        await host.page.locator('[data-testid=knock]', { hasText: 'Gustav Guest' }).locator('[data-testid=admit]').click();
        await guest.page.locator('[data-testid=in-meeting]').waitFor({ state: 'visible' });
        const hostId = await selfId(host.page);
        const guestId = await selfId(guest.page);
        await assertReceiving('host', host.page, [guestId]);
        await assertReceiving('guest', guest.page, [hostId]);
      } finally {
        await host.context.close();
        await guest.context.close();
      }
    });
  });
});
