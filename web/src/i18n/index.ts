/*
 * Message lookup. Every string a person sees goes through t(key): the key set
 * is the English catalog's, so a typo in a key is a compile error.
 *
 * This module holds only the current language and the catalogs; it does not
 * touch the DOM (ui/i18nDom.ts applies translations to elements).
 */
import { de } from './de';
import { en, type Catalog, type MessageKey } from './en';

export type { MessageKey } from './en';

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

export const catalogs: { readonly [L in Language]: Catalog } = { en, de };

export type Params = Readonly<Record<string, string | number>>;

export function isLanguage(x: string | null | undefined): x is Language {
  return x !== null && x !== undefined && (LANGUAGES as readonly string[]).includes(x);
}

/**
 * The language to show: a stored choice if valid, otherwise the first of the
 * browser's preferred languages (primary subtag: "de-AT" → "de") that we
 * have, otherwise English.
 */
export function pickLanguage(preferred: readonly string[], stored: string | null): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLanguage(primary)) return primary;
  }
  return 'en';
}

/** Replaces {name} placeholders; unknown placeholders stay as written. */
export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{([a-zA-Z0-9_]+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

let current: Language = 'en';
const listeners = new Set<(lang: Language) => void>();

export function getLanguage(): Language {
  return current;
}

export function setLanguage(lang: Language): void {
  if (lang === current) return;
  current = lang;
  for (const l of listeners) l(lang);
}

/** Calls fn after every language change; returns an unsubscribe function. */
export function onLanguageChange(fn: (lang: Language) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function t(key: MessageKey, params?: Params): string {
  return format(catalogs[current][key], params);
}
