/**
 * The page's language (zh or en): chosen once from what was kept in this browser or the
 * browser's own language, changed with the selector of the header, kept across reloads.
 * Every page reads it with `useLang()`; the strings are src/i18n's, as in the reports and the CLI.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { isLang, t, type Lang } from '../../../src/i18n/index.js';

const LANG_KEY = 'calcdx.lang';

export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (isLang(saved)) return saved;
  } catch { /* storage unavailable */ }
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

interface LangState { lang: Lang; setLang(l: Lang): void }
const LangContext = createContext<LangState>({ lang: 'en', setLang: () => undefined });

export function useLang(): LangState {
  return useContext(LangContext);
}

/** Provides the language; the document's `lang` and title follow it. */
export function LangProvider({ children }: { children: ComponentChildren }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t(lang, 'web.title');
  }, [lang]);
  const setLang = (l: Lang): void => {
    try { localStorage.setItem(LANG_KEY, l); } catch { /* storage unavailable */ }
    setLangState(l);
  };
  return <LangContext.Provider value={{ lang, setLang }}>{children}</LangContext.Provider>;
}
