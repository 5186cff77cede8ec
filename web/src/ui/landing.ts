/*
 * The start page: one button that creates a meeting.
 *
 * The server answers with the room id and the host credential; this page
 * then makes the invite secret itself and builds both links. The secret
 * exists only here, in memory and in the links shown.
 */
import type { CreateResult } from '../api/meetings';
import type { MessageKey } from '../i18n';
import { guestLink, hostLink } from '../links/meetingLink';
import { h, uid } from './dom';
import { tx } from './i18nDom';
import type { View } from './shell';

export interface LandingDeps {
  readonly origin: string;
  readonly createMeeting: () => Promise<CreateResult>;
  readonly newInvite: () => string;
  readonly copy: (text: string) => Promise<boolean>;
}

function errorKey(r: Extract<CreateResult, { ok: false }>): MessageKey {
  switch (r.error) {
    case 'forbidden':
      return 'landing.error.forbidden';
    case 'rate-limited':
      return 'landing.error.rateLimited';
    case 'network':
      return 'landing.error.network';
    case 'server':
      return 'landing.error.server';
    case 'bad-response':
      return 'landing.error.badResponse';
  }
}

/** A read-only link field with a label, a copy button and a help text. */
function linkField(
  labelKey: MessageKey,
  helpKey: MessageKey,
  copyKey: MessageKey,
  value: string,
  copy: (text: string) => Promise<boolean>,
  feedback: HTMLElement,
  warn: boolean,
): HTMLElement {
  const id = uid('link');
  const helpId = uid('help');
  const input = h('input', { id, type: 'text', readonly: true, class: 'link-input', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': helpId });
  input.value = value;
  input.addEventListener('focus', () => input.select());
  const button = tx(h('button', { type: 'button', class: 'button secondary' }), copyKey);
  button.addEventListener('click', () => {
    void copy(value).then((ok) => {
      if (!ok) input.select();
      tx(feedback, ok ? 'landing.copied' : 'landing.copyFailed');
    });
  });
  return h(
    'div',
    { class: warn ? 'field link-field warn' : 'field link-field' },
    tx(h('label', { for: id }), labelKey),
    h('div', { class: 'link-row' }, input, button),
    tx(h('p', { id: helpId, class: 'help' }), helpKey),
  );
}

export function landingView(deps: LandingDeps): View {
  const heading = tx(h('h1', { tabindex: -1 }), 'landing.title');
  const create = tx(h('button', { type: 'button', class: 'button primary' }), 'landing.create');
  const progress = h('p', { class: 'progress', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const result = h('div', { class: 'result', hidden: true });

  create.addEventListener('click', () => {
    create.disabled = true;
    error.textContent = '';
    delete error.dataset['i18n'];
    tx(progress, 'landing.creating');
    void deps.createMeeting().then((r) => {
      create.disabled = false;
      progress.textContent = '';
      delete progress.dataset['i18n'];
      if (!r.ok) {
        tx(error, errorKey(r), { status: r.status ?? 0 });
        result.hidden = true;
        return;
      }
      const invite = deps.newInvite();
      const guest = guestLink(deps.origin, r.meeting.room, invite);
      const host = hostLink(deps.origin, r.meeting.room, invite, r.meeting.hostKey);
      const feedback = h('p', { class: 'feedback', role: 'status' });
      const doneHeading = tx(h('h2', { tabindex: -1 }), 'landing.created');
      result.replaceChildren(
        doneHeading,
        linkField('landing.guest.label', 'landing.guest.help', 'landing.copy.guest', guest, deps.copy, feedback, false),
        linkField('landing.host.label', 'landing.host.help', 'landing.copy.host', host, deps.copy, feedback, true),
        feedback,
        tx(h('p', { class: 'help' }), 'landing.secret.help'),
        h('div', { class: 'actions' }, tx(h('a', { class: 'button primary', href: host }), 'landing.open')),
      );
      result.hidden = false;
      doneHeading.focus();
    });
  });

  const root = h(
    'section',
    { class: 'card landing' },
    heading,
    tx(h('p', { class: 'lead' }), 'landing.intro'),
    h('div', { class: 'actions' }, create),
    progress,
    error,
    result,
  );
  return { root, titleKey: 'landing.title', focus: heading };
}

/** Clipboard write that reports failure instead of throwing. */
export async function copyToClipboard(text: string): Promise<boolean> {
  try {
    if (!navigator.clipboard) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
