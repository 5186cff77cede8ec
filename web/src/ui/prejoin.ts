/*
 * The pre-join page (data-testid="prejoin"): name, camera and microphone
 * with a live preview and device choice, and a Join button.
 *
 * Media problems (refused, missing, busy) are explained next to the
 * controls and never block joining: the person can always join without
 * camera or microphone.
 */
import type { Prefs } from '../app/prefs';
import type { MessageKey } from '../i18n';
import { cleanName, MAX_NAME_BYTES } from '../links/meetingLink';
import type { DeviceInfo, LocalMedia, MediaKind, MediaProblem, StartResult } from '../media/local';
import { h, uid } from './dom';
import { tattr, tx } from './i18nDom';
import type { View } from './shell';
import { showStream } from './video';

export interface PrejoinDeps {
  readonly media: LocalMedia;
  readonly prefs: Prefs;
  readonly asHost: boolean;
  /** The link had no invite secret: a host must let this guest in by name. */
  readonly noInvite?: boolean;
  /** A name to put in the field instead of the remembered one (?name=). */
  readonly initialName: string | null;
  /** Called with the cleaned name when the person asks to join. */
  readonly onJoin: (name: string) => void;
}

export interface PrejoinView extends View {
  /** Disables the form while joining, or re-enables it. */
  setBusy(busy: boolean): void;
  /** Shows an error above the Join button (null clears it). */
  showError(key: MessageKey | null, params?: Readonly<Record<string, string>>): void;
}

/** Message keys explaining what went wrong with camera/microphone. */
export function mediaProblemKeys(r: StartResult): MessageKey[] {
  const v = r.video;
  const a = r.audio;
  if (v === 'unsupported' || a === 'unsupported') return ['media.unsupported'];
  if (v === 'denied' && a === 'denied') return ['media.denied'];
  const keys: MessageKey[] = [];
  const per: Record<MediaKind, Record<Exclude<MediaProblem, 'unsupported'>, MessageKey>> = {
    video: { denied: 'media.cameraDenied', 'no-device': 'media.noCamera', failed: 'media.cameraFailed' },
    audio: { denied: 'media.micDenied', 'no-device': 'media.noMic', failed: 'media.micFailed' },
  };
  if (v) keys.push(per.video[v]);
  if (a) keys.push(per.audio[a]);
  return keys;
}

interface DeviceControl {
  readonly root: HTMLElement;
  readonly toggle: HTMLInputElement;
  readonly select: HTMLSelectElement;
}

function deviceControl(useKey: MessageKey, deviceKey: MessageKey): DeviceControl {
  const toggleId = uid('use');
  const selectId = uid('dev');
  const toggle = h('input', { id: toggleId, type: 'checkbox' });
  const select = h('select', { id: selectId });
  const root = h(
    'div',
    { class: 'device' },
    h('div', { class: 'check' }, toggle, tx(h('label', { for: toggleId }), useKey)),
    h('div', { class: 'field' }, tx(h('label', { for: selectId, class: 'small' }), deviceKey), select),
  );
  return { root, toggle, select };
}

function fillDevices(select: HTMLSelectElement, list: readonly DeviceInfo[], current: string | null, fallbackKey: MessageKey): void {
  select.replaceChildren();
  list.forEach((d, i) => {
    const opt = h('option', { value: d.id });
    if (d.label) opt.textContent = d.label;
    else tx(opt, fallbackKey, { n: i + 1 });
    select.append(opt);
  });
  if (current && list.some((d) => d.id === current)) select.value = current;
  select.disabled = list.length === 0;
}

export function prejoinView(deps: PrejoinDeps): PrejoinView {
  const { media, prefs } = deps;
  const headingId = uid('prejoin-title');
  const heading = tx(h('h1', { id: headingId, tabindex: -1 }), 'prejoin.title');

  const video = tattr(h('video', { class: 'preview-video', autoplay: true, playsinline: true, muted: true }), 'aria-label', 'prejoin.preview');
  const off = tx(h('p', { class: 'preview-off' }), 'prejoin.cameraOff');
  const preview = h('div', { class: 'preview' }, video, off);
  showStream(video, media.stream);

  const nameId = uid('name');
  const nameHelpId = uid('name-help');
  const errorId = uid('join-error');
  const name = h('input', {
    id: nameId,
    name: 'name',
    type: 'text',
    autocomplete: 'name',
    required: true,
    maxlength: MAX_NAME_BYTES,
    'aria-describedby': `${nameHelpId} ${errorId}`,
  });
  name.value = deps.initialName ?? prefs.name;

  const cam = deviceControl('prejoin.camera.use', 'prejoin.camera.device');
  const mic = deviceControl('prejoin.mic.use', 'prejoin.mic.device');
  cam.toggle.checked = prefs.cameraOn;
  mic.toggle.checked = prefs.micOn;

  const problems = h('div', { class: 'problems', role: 'status' });
  const error = h('p', { id: errorId, class: 'error', role: 'alert' });
  const join = tx(h('button', { type: 'submit', class: 'button primary' }), 'prejoin.join');

  const form = h(
    'form',
    { class: 'prejoin-form', novalidate: true },
    h('div', { class: 'field' }, tx(h('label', { for: nameId }), 'prejoin.name.label'), name, tx(h('p', { id: nameHelpId, class: 'help' }), 'prejoin.name.help')),
    cam.root,
    mic.root,
    problems,
    error,
    h('div', { class: 'actions' }, join),
  );

  const showProblems = (r: StartResult): void => {
    problems.replaceChildren(...mediaProblemKeys(r).map((k) => tx(h('p', { class: 'warning' }), k)));
  };

  const refresh = async (): Promise<void> => {
    const list = await media.devices();
    fillDevices(cam.select, list.cameras, media.deviceOf('video') ?? prefs.cameraId, 'prejoin.device.camera');
    fillDevices(mic.select, list.mics, media.deviceOf('audio') ?? prefs.micId, 'prejoin.device.mic');
    cam.toggle.checked = media.has('video');
    mic.toggle.checked = media.has('audio');
    preview.classList.toggle('is-off', !media.has('video'));
  };

  const unsubscribe = media.onChange(() => {
    showStream(video, media.stream);
    preview.classList.toggle('is-off', !media.has('video'));
  });

  const onToggle = (ctl: DeviceControl, kind: MediaKind): void => {
    ctl.toggle.addEventListener('change', () => {
      const on = ctl.toggle.checked;
      if (kind === 'video') prefs.cameraOn = on;
      else prefs.micOn = on;
      if (!on) {
        media.disable(kind);
        showProblems({});
        void refresh();
        return;
      }
      const wanted = kind === 'video' ? prefs.cameraId : prefs.micId;
      void media.enable(kind, wanted).then((p) => {
        showProblems(p ? { [kind]: p } : {});
        return refresh();
      });
    });
  };
  const onSelect = (ctl: DeviceControl, kind: MediaKind): void => {
    ctl.select.addEventListener('change', () => {
      const id = ctl.select.value || null;
      if (kind === 'video') prefs.cameraId = id;
      else prefs.micId = id;
      if (!ctl.toggle.checked) return;
      void media.enable(kind, id).then((p) => {
        showProblems(p ? { [kind]: p } : {});
        return refresh();
      });
    });
  };
  onToggle(cam, 'video');
  onToggle(mic, 'audio');
  onSelect(cam, 'video');
  onSelect(mic, 'audio');

  // Start the preview as remembered (or reuse what is already running).
  preview.classList.add('is-off');
  const wantVideo = prefs.cameraOn && !media.has('video');
  const wantAudio = prefs.micOn && !media.has('audio');
  void media
    .start({ video: wantVideo ? prefs.cameraId : false, audio: wantAudio ? prefs.micId : false })
    .then((r) => {
      showProblems(r);
      return refresh();
    });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const clean = cleanName(name.value);
    if (clean === null) {
      name.setAttribute('aria-invalid', 'true');
      tx(error, 'prejoin.name.missing');
      name.focus();
      return;
    }
    name.removeAttribute('aria-invalid');
    prefs.name = clean;
    deps.onJoin(clean);
  });

  const root = h(
    'section',
    { class: 'card prejoin', 'data-testid': 'prejoin', 'aria-labelledby': headingId },
    heading,
    deps.asHost ? tx(h('p', { class: 'badge-line' }), 'prejoin.asHost') : null,
    deps.noInvite && !deps.asHost ? tx(h('p', { class: 'link-field warn', 'data-testid': 'no-invite' }), 'prejoin.noInvite') : null,
    h('div', { class: 'prejoin-grid' }, preview, form),
  );

  return {
    root,
    titleKey: 'prejoin.title',
    focus: heading,
    dispose: unsubscribe,
    setBusy(busy) {
      for (const el of [name, cam.toggle, cam.select, mic.toggle, mic.select, join]) el.disabled = busy;
      tx(join, busy ? 'prejoin.joining' : 'prejoin.join');
      root.setAttribute('aria-busy', busy ? 'true' : 'false');
      if (!busy) void refresh();
    },
    showError(key, params) {
      if (key === null) {
        error.textContent = '';
        delete error.dataset['i18n'];
      } else {
        tx(error, key, params);
      }
    },
  };
}
