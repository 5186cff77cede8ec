/*
 * The lobby (data-testid="lobby-waiting"): shown while a host has not yet
 * admitted us. Nothing of the meeting is visible here by design (DESIGN.md
 * §4): no roster, no media.
 */
import { h, uid } from './dom';
import { tx } from './i18nDom';
import type { View } from './shell';

export function lobbyView(onLeave: () => void): View {
  const headingId = uid('lobby-title');
  const heading = tx(h('h1', { id: headingId, tabindex: -1 }), 'lobby.title');
  const leave = tx(h('button', { type: 'button', class: 'button secondary' }), 'lobby.leave');
  leave.addEventListener('click', onLeave);
  const root = h(
    'section',
    { class: 'card notice lobby', 'data-testid': 'lobby-waiting', 'aria-labelledby': headingId, 'aria-busy': 'true' },
    h('div', { class: 'spinner', 'aria-hidden': 'true' }),
    heading,
    tx(h('p'), 'lobby.text'),
    h('div', { class: 'actions' }, leave),
  );
  return { root, titleKey: 'lobby.title', focus: heading };
}
