/*
 * The meeting (data-testid="in-meeting"): a grid of participant tiles and a
 * control bar.
 *
 * Only one's own tile exists for now (data-self="true", a muted <video> of
 * the local stream); remote tiles arrive with the media transport. Controls
 * are toggle buttons whose accessible name stays fixed ("Microphone") while
 * aria-pressed tells whether it is on, as screen readers expect.
 */
import type { Prefs } from '../app/prefs';
import type { MessageKey } from '../i18n';
import type { LocalMedia, MediaKind } from '../media/local';
import type { Role } from '../signaling/protocol';
import { h, uid } from './dom';
import { tattr, tx } from './i18nDom';
import type { Shell, View } from './shell';
import { showStream } from './video';

export interface MeetingDeps {
  readonly shell: Shell;
  readonly media: LocalMedia;
  readonly prefs: Prefs;
  readonly participant: string;
  readonly role: Role;
  readonly name: string;
  readonly onLeave: () => void;
}

export interface MeetingView extends View {
  readonly grid: HTMLElement;
}

function selfTile(deps: MeetingDeps): { tile: HTMLElement; update: () => void } {
  const video = h('video', { autoplay: true, playsinline: true, muted: true });
  const off = tx(h('p', { class: 'tile-off' }), 'meeting.cameraOff');
  const caption = h(
    'figcaption',
    { class: 'tile-name' },
    tx(h('span'), 'meeting.you', { name: deps.name }),
    deps.role === 'host' ? tx(h('span', { class: 'badge' }), 'meeting.host') : null,
  );
  const tile = h(
    'figure',
    { class: 'tile', 'data-testid': 'tile', 'data-participant': deps.participant, 'data-self': 'true' },
    video,
    off,
    caption,
  );
  const update = (): void => {
    showStream(video, deps.media.stream);
    tile.classList.toggle('is-off', !deps.media.isLive('video'));
  };
  update();
  return { tile, update };
}

function toggleButton(testid: string, labelKey: MessageKey): { button: HTMLButtonElement; setOn: (on: boolean, available: boolean) => void } {
  const state = h('span', { class: 'state', 'aria-hidden': 'true' });
  const button = tattr(
    h(
      'button',
      { type: 'button', class: `control control-${testid}`, 'data-testid': testid, 'aria-pressed': 'false' },
      tx(h('span', { class: 'control-label' }), labelKey),
      state,
    ),
    'aria-label',
    labelKey,
  );
  const setOn = (on: boolean, available: boolean): void => {
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.classList.toggle('is-on', on);
    button.classList.toggle('is-unavailable', !available);
    tx(state, on ? 'meeting.on' : 'meeting.off');
  };
  return { button, setOn };
}

export function meetingView(deps: MeetingDeps): MeetingView {
  const { media, prefs, shell } = deps;
  const headingId = uid('meeting-title');
  const heading = tx(h('h1', { id: headingId, class: 'visually-hidden', tabindex: -1 }), 'meeting.title');

  const self = selfTile(deps);
  const grid = tattr(h('div', { class: 'grid', role: 'group' }, self.tile), 'aria-label', 'meeting.grid');

  const mic = toggleButton('mic', 'meeting.mic');
  const camera = toggleButton('camera', 'meeting.camera');
  const leave = tattr(
    h('button', { type: 'button', class: 'control control-leave', 'data-testid': 'leave' }, tx(h('span', { class: 'control-label' }), 'meeting.leave')),
    'aria-label',
    'meeting.leave.label',
  );

  const sync = (): void => {
    mic.setOn(media.isLive('audio'), media.has('audio'));
    camera.setOn(media.isLive('video'), media.has('video'));
    self.update();
  };

  const report = (kind: MediaKind, problem: string | null): void => {
    if (problem === null) return;
    const keys: Record<string, MessageKey> =
      kind === 'video'
        ? { denied: 'media.cameraDenied', 'no-device': 'media.noCamera', failed: 'media.cameraFailed', unsupported: 'media.unsupported' }
        : { denied: 'media.micDenied', 'no-device': 'media.noMic', failed: 'media.micFailed', unsupported: 'media.unsupported' };
    const key = keys[problem];
    if (key) shell.announce(key);
  };

  mic.button.addEventListener('click', () => {
    if (media.has('audio')) media.setEnabled('audio', !media.isLive('audio'));
    else void media.enable('audio', prefs.micId).then((p) => report('audio', p));
  });
  camera.button.addEventListener('click', () => {
    // Off means off: stop the camera so its light goes out.
    if (media.has('video')) media.disable('video');
    else void media.enable('video', prefs.cameraId).then((p) => report('video', p));
  });
  leave.addEventListener('click', deps.onLeave);

  const unsubscribe = media.onChange(sync);

  const controls = tattr(h('div', { class: 'controls', role: 'group' }, mic.button, camera.button, leave), 'aria-label', 'meeting.controls');

  const root = h(
    'section',
    { class: 'meeting', 'data-testid': 'in-meeting', 'aria-labelledby': headingId },
    heading,
    tx(h('p', { class: 'notice-line' }), 'meeting.mediaPending'),
    grid,
    controls,
  );
  sync();
  return { root, titleKey: 'meeting.title', focus: heading, grid, dispose: unsubscribe };
}
