/**
 * Chinese text in TypeScript sources: every string and template-literal part that holds a Chinese
 * character, found with the TypeScript parser (so comments and identifiers are not read). Used by
 * src/i18n/zh-text.test.ts to hold the adapters' own message tables (FHIR, CDS Hooks, problem+json)
 * to the same punctuation rule as the shared catalogue.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** a Chinese character (CJK unified ideographs and extension A) */
export const HAN = '[\\u3400-\\u9fff]';
/** a half-width , : ; ? ! ( ) touching a Chinese character (spaces between them allowed) */
export const HALF_WIDTH_NEXT_TO_HAN = new RegExp(`${HAN}\\s*[,:;?!()]|[,;?!()]\\s*${HAN}`, 'u');

export interface SourceString { path: string; text: string }

/** The string literals and template-literal parts of a .ts file that contain a Chinese character, with file:line. */
export function zhStringsOf(file: string, label = file): SourceString[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: SourceString[] = [];
  const han = new RegExp(HAN, 'u');
  const visit = (n: ts.Node): void => {
    let text: string | undefined;
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) text = n.text;
    else if (ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) text = n.text;
    if (text !== undefined && han.test(text)) out.push({ path: `${label}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`, text });
    n.forEachChild(visit);
  };
  visit(src);
  return out;
}
