/** The interface languages. Its own module (no imports) so that the command line can read --lang without loading the catalogues. */
export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export function isLang(x: unknown): x is Lang {
  return x === 'zh' || x === 'en';
}
