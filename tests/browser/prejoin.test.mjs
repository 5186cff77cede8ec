// Browser tests of the web client against the real server: the pre-join
// page from a guest link, creating a meeting on the landing page, and
// joining as host (in the meeting) and as guest (in the lobby).
//
//   cd tests && node --test browser/
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { artifacts, cspConsoleMessages, foreignRequests, knockLink, launchBrowser, repoRoot, startServer, until, watchedPage, webIndex } from './harness.mjs';

const B64URL = '[A-Za-z0-9_-]';
const ROOM_RE = `${B64URL}{22}`;
const SECRET_RE = `${B64URL}{43}`;

/** With ?query inserted before the fragment, as DESIGN.md §9 writes it. */
function withQuery(link, query) {
  const u = new URL(link);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/** The common end-of-test checks: same origin only, no CSP violation. */
async function assertClean(w, origin) {
  assert.deepEqual(foreignRequests(w.requests, origin), [], 'a request went to another origin');
  assert.deepEqual(await w.cspViolations(), [], 'the page violated the CSP');
  assert.deepEqual(cspConsoleMessages(w.console), [], 'the console reports a CSP problem');
}

describe('built web app', () => {
  test('index.html has no inline script or style and nothing from another origin', async () => {
    const html = await readFile(webIndex, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length > 0, 'the app script is referenced');
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, /\bsrc="\/assets\/[^"]+\.js"/, 'scripts come from /assets/');
      assert.equal(body.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(html, /<style\b/i, 'no <style> element');
    assert.doesNotMatch(html, /\sstyle\s*=/i, 'no style attribute');
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'no other origin');
    const assets = await readdir(join(repoRoot, 'build', 'web', 'assets'));
    assert.ok(assets.some((f) => f.endsWith('.js')) && assets.some((f) => f.endsWith('.css')));
  });
});

describe('web client in Chromium against conclave', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.stop();
    }
  });

  test('a guest link shows the pre-join page with name field and join button', async () => {
    const meeting = await server.createMeeting();
    assert.match(meeting.guest_link, new RegExp(`^${server.base}/m/${ROOM_RE}#${SECRET_RE}$`));
    const w = await watchedPage(browser);
    try {
      await w.page.goto(meeting.guest_link);
      const prejoin = w.page.locator('[data-testid=prejoin]');
      await prejoin.waitFor({ state: 'visible' });
      const name = prejoin.getByLabel('Your name');
      assert.equal(await name.isVisible(), true);
      assert.equal(await name.isEditable(), true);
      const joinButton = prejoin.getByRole('button', { name: 'Join' });
      assert.equal(await joinButton.isVisible(), true);
      assert.equal(await joinButton.isEnabled(), true);
      // The fake camera and microphone were opened and listed.
      await w.page.waitForFunction(() => {
        const v = document.querySelector('[data-testid=prejoin] video');
        return v instanceof HTMLVideoElement && v.srcObject instanceof MediaStream && v.srcObject.getVideoTracks().length === 1 && v.videoWidth > 0;
      });
      assert.equal(await prejoin.getByLabel('Use camera').isChecked(), true);
      assert.equal(await prejoin.getByLabel('Use microphone').isChecked(), true);
      assert.equal(await w.page.locator('html').getAttribute('lang'), 'en');

      await mkdir(artifacts, { recursive: true });
      await w.page.screenshot({ path: join(artifacts, 'prejoin.png'), fullPage: true });

      // Joining from the form: a guest waits in the lobby.
      await name.fill('Grete Guest');
      await name.press('Enter');
      await w.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });

      // From the lobby the guest offers its MLS KeyPackage with the invite
      // proof (an HMAC under a key derived from the secret, never the secret).
      const outgoing = () => w.frames.filter((f) => f.dir === 'out').map((f) => JSON.parse(f.payload));
      const kp = await until('the KeyPackage to be sent from the lobby', async () => outgoing().find((m) => m.type === 'mls_keypackage'));
      assert.match(kp.keypackage, /^[A-Za-z0-9_-]{100,}$/);
      assert.match(kp.proof, /^[A-Za-z0-9_-]{43}$/);

      // The invite secret never leaves the page: no request or frame carries it.
      const invite = new URL(meeting.guest_link).hash.slice(1);
      for (const r of w.requests) {
        assert.ok(!r.url.includes(invite) && !(r.body ?? '').includes(invite), `invite secret sent in ${r.method} ${r.url}`);
      }
      for (const f of w.frames) assert.ok(!f.payload.includes(invite), 'invite secret sent over the WebSocket');
      assert.deepEqual(
        outgoing().filter((m) => m.type !== 'ping' && m.type !== 'mls_keypackage'),
        [
          { type: 'hello', v: 1 },
          { type: 'join', room: new URL(meeting.guest_link).pathname.slice(3), name: 'Grete Guest' },
        ],
      );

      // The name is remembered for next time.
      await w.page.reload();
      assert.equal(await w.page.locator('[data-testid=prejoin]').getByLabel('Your name').inputValue(), 'Grete Guest');
      await assertClean(w, server.base);
    } finally {
      await w.context.close();
    }
  });

  test('"Create meeting" on the landing page produces working links', async () => {
    const w = await watchedPage(browser);
    try {
      await w.page.goto(`${server.base}/`);
      await w.page.getByRole('button', { name: 'Create meeting' }).click();
      const guest = w.page.getByLabel('Invitation link');
      await guest.waitFor({ state: 'visible' });
      const guestLink = await guest.inputValue();
      const hostLink = await w.page.getByLabel('Your host link').inputValue();
      assert.match(guestLink, new RegExp(`^${server.base}/m/(${ROOM_RE})#(${SECRET_RE})$`));
      assert.match(hostLink, new RegExp(`^${server.base}/m/${ROOM_RE}#${SECRET_RE}\\.${SECRET_RE}$`));
      const invite = new URL(guestLink).hash.slice(1);
      assert.equal(invite.length, 43);
      assert.ok(hostLink.startsWith(guestLink + '.'), 'host link extends the guest link');

      const posts = w.requests.filter((r) => r.method === 'POST');
      assert.equal(posts.length, 1);
      assert.equal(new URL(posts[0].url).pathname, '/api/meetings');
      assert.equal(posts[0].body, '{}');
      for (const r of w.requests) assert.ok(!r.url.includes(invite) && !(r.body ?? '').includes(invite));

      // The new guest link opens the pre-join page.
      await w.page.goto(guestLink);
      await w.page.locator('[data-testid=prejoin]').waitFor({ state: 'visible' });
      await assertClean(w, server.base);
    } finally {
      await w.context.close();
    }
  });

  test('host link with join=1 enters the meeting; a guest waits in the lobby', async () => {
    const meeting = await server.createMeeting();
    const host = await watchedPage(browser);
    const guest = await watchedPage(browser);
    try {
      await host.page.goto(withQuery(meeting.host_link, { name: 'Hanna Host', join: '1' }));
      const inMeeting = host.page.locator('[data-testid=in-meeting]');
      await inMeeting.waitFor({ state: 'visible' });
      const tile = inMeeting.locator('[data-testid=tile][data-self=true]');
      assert.equal(await tile.count(), 1);
      assert.match((await tile.getAttribute('data-participant')) ?? '', /^[A-Za-z0-9_-]+$/);
      await host.page.waitForFunction(() => {
        const v = document.querySelector('[data-testid=tile][data-self=true] video');
        return v instanceof HTMLVideoElement && v.muted && v.srcObject instanceof MediaStream && v.srcObject.getTracks().length === 2;
      });
      for (const id of ['mic', 'camera', 'leave']) {
        assert.equal(await host.page.locator(`[data-testid=${id}]`).isVisible(), true, id);
      }
      const mic = host.page.locator('[data-testid=mic]');
      assert.equal(await mic.getAttribute('aria-pressed'), 'true');
      await mic.focus();
      await host.page.keyboard.press('Enter');
      assert.equal(await mic.getAttribute('aria-pressed'), 'false');

      const invite = new URL(meeting.host_link).hash.slice(1).split('.')[0];
      const joinMsg = host.frames.filter((f) => f.dir === 'out').map((f) => JSON.parse(f.payload)).find((m) => m.type === 'join');
      assert.ok(joinMsg, 'a join message was sent');
      assert.equal(joinMsg.name, 'Hanna Host');
      assert.equal(joinMsg.host_key.length, 43);
      for (const f of host.frames) assert.ok(!f.payload.includes(invite), 'invite secret sent over the WebSocket');

      await guest.page.goto(withQuery(knockLink(meeting.guest_link), { name: 'Gustav Guest', join: '1', cam: '0' }));
      await guest.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
      assert.equal(await guest.page.locator('[data-testid=in-meeting]').count(), 0);

      await host.page.locator('[data-testid=leave]').click();
      await host.page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      await assertClean(host, server.base);
      await assertClean(guest, server.base);
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });

  test('refused camera and microphone are explained and joining still works', async () => {
    const meeting = await server.createMeeting();
    const w = await watchedPage(browser);
    try {
      await w.context.addInitScript(() => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('refused', 'NotAllowedError'));
      });
      await w.page.goto(meeting.guest_link);
      const prejoin = w.page.locator('[data-testid=prejoin]');
      await prejoin.getByText('Access to the camera and microphone was refused', { exact: false }).waitFor();
      assert.equal(await prejoin.getByLabel('Use camera').isChecked(), false);
      assert.equal(await prejoin.getByLabel('Use microphone').isChecked(), false);
      await prejoin.getByLabel('Your name').fill('Nora No-Camera');
      await prejoin.getByRole('button', { name: 'Join' }).click();
      await w.page.locator('[data-testid=lobby-waiting]').waitFor({ state: 'visible' });
      await assertClean(w, server.base);
    } finally {
      await w.context.close();
    }
  });

  test('the language switch changes the page and is remembered', async () => {
    const w = await watchedPage(browser);
    try {
      await w.page.goto(`${server.base}/`);
      await w.page.getByLabel('Language').selectOption('de');
      await w.page.getByRole('heading', { name: 'Eine vertrauliche Besprechung beginnen' }).waitFor();
      assert.equal(await w.page.locator('html').getAttribute('lang'), 'de');
      await w.page.reload();
      await w.page.getByRole('button', { name: 'Besprechung erstellen' }).waitFor();
      assert.equal(await w.page.locator('html').getAttribute('lang'), 'de');
      await assertClean(w, server.base);
    } finally {
      await w.context.close();
    }
  });

  test('a damaged link says so plainly', async () => {
    const meeting = await server.createMeeting();
    const w = await watchedPage(browser);
    try {
      await w.page.goto(meeting.guest_link.slice(0, -5));
      await w.page.getByRole('heading', { name: 'This meeting link does not work' }).waitFor();
      assert.equal(await w.page.locator('[data-testid=prejoin]').count(), 0);
      await assertClean(w, server.base);
    } finally {
      await w.context.close();
    }
  });
});
