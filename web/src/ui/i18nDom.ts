/*
 * Translated text on elements that survives a language switch.
 *
 * tx() sets an element's text from a message key and records the key (and
 * parameters) in data attributes; tattr() does the same for an attribute
 * such as aria-label. retranslate() walks a subtree and rewrites every
 * recorded string in the current language, so switching language never
 * rebuilds a view (a live video stays live).
 */
import { en } from '../i18n/en';
import { t, type MessageKey, type Params } from '../i18n';

const ATTRS = ['aria-label', 'title', 'placeholder', 'alt'] as const;
export type TranslatedAttr = (typeof ATTRS)[number];

function isKey(k: string | undefined): k is MessageKey {
  return k !== undefined && Object.prototype.hasOwnProperty.call(en, k);
}

function readParams(el: HTMLElement): Params | undefined {
  const raw = el.dataset['i18nParams'];
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? (v as Params) : undefined;
  } catch {
    return undefined;
  }
}

/** Sets el's text to t(key, params) and remembers the key. */
export function tx<E extends HTMLElement>(el: E, key: MessageKey, params?: Params): E {
  el.dataset['i18n'] = key;
  if (params) el.dataset['i18nParams'] = JSON.stringify(params);
  else delete el.dataset['i18nParams'];
  el.textContent = t(key, params);
  return el;
}

/** Sets an attribute to t(key) and remembers the key. */
export function tattr<E extends HTMLElement>(el: E, attr: TranslatedAttr, key: MessageKey): E {
  el.setAttribute(`data-i18n-${attr}`, key);
  el.setAttribute(attr, t(key));
  return el;
}

/** Rewrites every remembered string under root in the current language. */
export function retranslate(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset['i18n'];
    if (isKey(key)) el.textContent = t(key, readParams(el));
  }
  for (const attr of ATTRS) {
    for (const el of root.querySelectorAll<HTMLElement>(`[data-i18n-${attr}]`)) {
      const key = el.getAttribute(`data-i18n-${attr}`) ?? undefined;
      if (isKey(key)) el.setAttribute(attr, t(key));
    }
  }
}
