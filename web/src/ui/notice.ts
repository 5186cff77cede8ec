/*
 * A plain page with a heading, an explanation and a few actions: used for
 * bad links, "not found", "you left", "denied", "ended", lost connections.
 */
import type { MessageKey, Params } from '../i18n';
import { h } from './dom';
import { tx } from './i18nDom';
import type { View } from './shell';

export type NoticeAction =
  | { readonly key: MessageKey; readonly href: string }
  | { readonly key: MessageKey; readonly onClick: () => void };

export interface NoticeSpec {
  readonly titleKey: MessageKey;
  readonly textKey?: MessageKey;
  readonly textParams?: Params;
  readonly actions?: readonly NoticeAction[];
  readonly testid?: string;
  /** Show a quiet activity indicator (waiting, connecting). */
  readonly busy?: boolean;
}

export function noticeView(spec: NoticeSpec): View {
  const heading = tx(h('h1', { tabindex: -1 }), spec.titleKey);
  const actions = h('div', { class: 'actions' });
  for (const a of spec.actions ?? []) {
    if ('href' in a) {
      actions.append(tx(h('a', { class: 'button', href: a.href }), a.key));
    } else {
      const b = tx(h('button', { type: 'button', class: 'button' }), a.key);
      b.addEventListener('click', a.onClick);
      actions.append(b);
    }
  }
  const root = h(
    'section',
    { class: 'card notice', 'data-testid': spec.testid, 'aria-busy': spec.busy ? 'true' : undefined },
    spec.busy ? h('div', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    heading,
    spec.textKey ? tx(h('p'), spec.textKey, spec.textParams) : null,
    spec.actions && spec.actions.length > 0 ? actions : null,
  );
  return { root, titleKey: spec.titleKey, focus: heading };
}
