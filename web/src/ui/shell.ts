/*
 * The page frame: a banner with the product name and the language switch, a
 * main landmark that holds exactly one view at a time, and a polite live
 * region for short announcements. Showing a view moves focus to its heading
 * so screen-reader users hear where they are.
 */
import { LANGUAGES, getLanguage, onLanguageChange, setLanguage, t, type Language, type MessageKey } from '../i18n';
import { catalogs } from '../i18n';
import { h, uid } from './dom';
import { retranslate, tx } from './i18nDom';

export interface View {
  readonly root: HTMLElement;
  /** Key of the document title. */
  readonly titleKey: MessageKey;
  /** Element to focus when shown (usually the h1, with tabindex=-1). */
  readonly focus?: HTMLElement;
  dispose?(): void;
}

export interface Shell {
  show(view: View): void;
  /** Says something through the live region (and shows it briefly). */
  announce(key: MessageKey, params?: Readonly<Record<string, string | number>>): void;
}

export function createShell(host: HTMLElement, onLanguagePicked: (lang: Language) => void): Shell {
  const selectId = uid('lang');
  const select = h('select', { id: selectId, class: 'lang-select' });
  for (const lang of LANGUAGES) {
    // Each language is named in itself, so the list reads the same in any UI language.
    const opt = h('option', { value: lang, lang }, catalogs[lang][`lang.${lang}` as const]);
    select.append(opt);
  }
  select.value = getLanguage();
  select.addEventListener('change', () => {
    const v = LANGUAGES.find((l) => l === select.value);
    if (v) {
      setLanguage(v);
      onLanguagePicked(v);
    }
  });

  const banner = h(
    'header',
    { class: 'banner' },
    h('a', { class: 'brand', href: '/' }, tx(h('span', { class: 'brand-name' }), 'app.name')),
    tx(h('span', { class: 'tagline' }), 'app.tagline'),
    h('div', { class: 'lang' }, tx(h('label', { for: selectId }), 'lang.label'), select),
  );
  const main = h('main', { id: 'main', class: 'main' });
  const status = h('div', { class: 'announce', role: 'status', 'aria-live': 'polite' });
  host.replaceChildren(banner, main, status);

  let current: View | null = null;
  let statusTimer: ReturnType<typeof setTimeout> | null = null;

  const setTitle = (): void => {
    document.title = current ? `${t(current.titleKey)} · ${t('app.name')}` : t('app.name');
  };
  const applyLanguage = (lang: Language): void => {
    document.documentElement.lang = lang;
    select.value = lang;
    retranslate(document.body);
    setTitle();
  };
  onLanguageChange(applyLanguage);
  document.documentElement.lang = getLanguage();

  return {
    show(view) {
      current?.dispose?.();
      current = view;
      main.replaceChildren(view.root);
      setTitle();
      view.focus?.focus({ preventScroll: false });
    },
    announce(key, params) {
      tx(status, key, params);
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusTimer = setTimeout(() => {
        status.textContent = '';
        delete status.dataset['i18n'];
      }, 8000);
    },
  };
}
