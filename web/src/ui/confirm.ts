/*
 * A modal question before an action that cannot be undone (remove a
 * participant, end the meeting): a native <dialog> opened with showModal(),
 * so focus is trapped inside, Escape cancels, and the rest of the page is
 * inert meanwhile. The dialog is data-testid="confirm-dialog"; its buttons
 * are "confirm" and "cancel". It removes itself when closed.
 */
import type { MessageKey, Params } from '../i18n';
import { h, uid } from './dom';
import { tx } from './i18nDom';

export interface ConfirmSpec {
  readonly titleKey: MessageKey;
  readonly textKey: MessageKey;
  readonly params?: Params;
  readonly confirmKey: MessageKey;
  /** Styles the confirm button as dangerous (red). */
  readonly danger?: boolean;
  readonly onConfirm: () => void;
}

/** Opens the dialog inside `host`; returns a function that closes it unanswered. */
export function confirmAction(host: HTMLElement, spec: ConfirmSpec): () => void {
  const titleId = uid('confirm-title');
  const textId = uid('confirm-text');
  const ok = tx(
    h('button', { type: 'button', class: spec.danger ? 'button danger' : 'button primary', 'data-testid': 'confirm' }),
    spec.confirmKey,
    spec.params,
  );
  const cancel = tx(h('button', { type: 'button', class: 'button', 'data-testid': 'cancel' }), 'confirm.cancel');
  const dialog = h(
    'dialog',
    { class: 'confirm card', 'data-testid': 'confirm-dialog', 'aria-labelledby': titleId, 'aria-describedby': textId },
    tx(h('h2', { id: titleId }), spec.titleKey, spec.params),
    tx(h('p', { id: textId }), spec.textKey, spec.params),
    h('div', { class: 'actions' }, cancel, ok),
  );
  let done = false;
  const close = (): void => {
    if (done) return;
    done = true;
    if (dialog.open) dialog.close();
    dialog.remove();
  };
  ok.addEventListener('click', () => {
    close();
    spec.onConfirm();
  });
  cancel.addEventListener('click', close);
  // Escape closes a modal dialog by itself; tidy up after it.
  dialog.addEventListener('close', close);
  host.append(dialog);
  if (typeof dialog.showModal === 'function') dialog.showModal();
  else dialog.setAttribute('open', '');
  // The safe choice has the focus: Enter does not remove anyone by accident.
  cancel.focus();
  return close;
}
