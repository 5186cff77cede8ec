import { afterEach, describe, expect, it } from 'vitest';
import { de } from './de';
import { en, type MessageKey } from './en';
import { format, pickLanguage, setLanguage, t } from './index';

/**
 * Keys whose German text is meant to equal the English one: the product
 * name, language names written in themselves, and loanwords used as such
 * in German interfaces.
 */
const SAME_IN_GERMAN: ReadonlySet<MessageKey> = new Set<MessageKey>(['app.name', 'lang.en', 'lang.de', 'meeting.host', 'chat.title']);

const placeholders = (s: string): string[] => [...s.matchAll(/\{([a-zA-Z0-9_]+)\}/g)].map((m) => m[1] ?? '').sort();

describe('catalogs', () => {
  const keys = Object.keys(en) as MessageKey[];

  it('German has exactly the English keys', () => {
    expect(Object.keys(de).sort()).toEqual([...keys].sort());
  });

  it('no message is empty', () => {
    for (const k of keys) {
      expect(en[k].trim(), `en ${k}`).not.toBe('');
      expect(de[k].trim(), `de ${k}`).not.toBe('');
    }
  });

  it('German differs from English except where intended', () => {
    const same = keys.filter((k) => de[k] === en[k]);
    expect(same.sort()).toEqual([...SAME_IN_GERMAN].sort());
  });

  it('placeholders match between languages', () => {
    for (const k of keys) expect(placeholders(de[k]), k).toEqual(placeholders(en[k]));
  });
});

describe('lookup', () => {
  afterEach(() => setLanguage('en'));

  it('formats placeholders', () => {
    expect(format('{name} (you)', { name: 'Ada' })).toBe('Ada (you)');
    expect(format('{a}{b}{a}', { a: 1, b: 'x' })).toBe('1x1');
    expect(format('keep {unknown}', {})).toBe('keep {unknown}');
  });

  it('follows the current language', () => {
    expect(t('prejoin.join')).toBe('Join');
    setLanguage('de');
    expect(t('prejoin.join')).toBe('Beitreten');
    expect(t('meeting.you', { name: 'Ada' })).toBe('Ada (Sie)');
  });

  it('picks a stored choice first, then the browser preference, then English', () => {
    expect(pickLanguage(['de-DE', 'en'], 'en')).toBe('en');
    expect(pickLanguage(['de-AT', 'en'], null)).toBe('de');
    expect(pickLanguage(['fr-FR', 'DE'], null)).toBe('de');
    expect(pickLanguage(['fr-FR', 'it'], null)).toBe('en');
    expect(pickLanguage([], 'xx')).toBe('en');
  });
});
