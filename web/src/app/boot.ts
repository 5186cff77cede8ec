/*
 * Start-up: pick the language, build the page frame, and show the page the
 * address asks for. One index.html serves "/" (landing) and "/m/ROOM"
 * (meeting); anything else gets a "not found" page.
 */
import { createMeeting } from '../api/meetings';
import { newInviteSecret } from '../e2ee/invite';
import { pickLanguage, setLanguage } from '../i18n';
import { parseJoinOptions, parseMeetingLink, routeOf, type LinkError } from '../links/meetingLink';
import type { MessageKey } from '../i18n';
import { LocalMedia } from '../media/local';
import { signalingUrl } from '../signaling/client';
import { copyToClipboard, landingView } from '../ui/landing';
import { noticeView } from '../ui/notice';
import { createShell, type Shell } from '../ui/shell';
import { Prefs } from './prefs';
import { MeetingSession } from './session';

const LINK_ERROR_KEYS: { readonly [E in LinkError]: MessageKey } = {
  'bad-room': 'link.bad.room',
  'bad-invite': 'link.bad.invite',
  'bad-host-key': 'link.bad.hostKey',
};

export function boot(host: HTMLElement): void {
  const prefs = new Prefs();
  const preferred = navigator.languages.length > 0 ? navigator.languages : [navigator.language];
  setLanguage(pickLanguage(preferred, prefs.language));
  const shell = createShell(host, (lang) => {
    prefs.language = lang;
  });

  let session: MeetingSession | null = null;
  const route = (): void => {
    session = showRoute(shell, prefs);
  };
  route();

  // Someone pasting a corrected fragment into the address bar expects the
  // page to follow, but never in the middle of a meeting.
  window.addEventListener('hashchange', () => {
    if (session?.active) return;
    session?.dispose();
    route();
  });
  window.addEventListener('pagehide', () => session?.dispose());
}

function showRoute(shell: Shell, prefs: Prefs): MeetingSession | null {
  const r = routeOf(location.pathname);
  if (r.kind === 'landing') {
    shell.show(
      landingView({
        origin: location.origin,
        createMeeting: () => createMeeting(),
        newInvite: () => newInviteSecret(),
        copy: copyToClipboard,
      }),
    );
    return null;
  }
  if (r.kind === 'not-found') {
    shell.show(noticeView({ titleKey: 'notFound.title', textKey: 'notFound.text', actions: [{ key: 'nav.home', href: '/' }] }));
    return null;
  }
  const parsed = parseMeetingLink(r.roomText, location.hash);
  if (!parsed.ok) {
    shell.show(noticeView({ titleKey: 'link.bad.title', textKey: LINK_ERROR_KEYS[parsed.error], actions: [{ key: 'nav.home', href: '/' }] }));
    return null;
  }
  const session = new MeetingSession({
    shell,
    link: parsed.link,
    options: parseJoinOptions(location.search),
    prefs,
    media: new LocalMedia(),
    signalingUrl: signalingUrl(location),
  });
  session.start();
  return session;
}
