/**
 * A report as a small document model, built once and rendered to text, Markdown or HTML.
 */
/** `quiet`: a link the plain-text rendering shows as its text alone (an entity name linked to its source) */
export type Inline = string | { link: string; text: string; quiet?: boolean } | { strong: string };

export type Block =
  | { kind: 'title'; text: string; subtitle?: string }
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: Inline[]; small?: boolean }
  | { kind: 'alert'; level: 'critical' | 'warning' | 'info'; text: string }
  | { kind: 'list'; items: Inline[][]; ordered?: boolean }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'bars'; items: Array<{ label: string; value: number; note: string; tone: 'malignant' | 'intermediate' | 'benign' }> }
  | { kind: 'timeline'; items: Array<{ when: string; what: string }> }
  | { kind: 'details'; summary: string; blocks: Block[] }
  /** the clinician report's summary (page 1 when printed) and its appendix */
  | { kind: 'section'; role: 'summary' | 'appendix'; title?: string; blocks: Block[] };

export interface ReportDocument {
  lang: 'zh' | 'en';
  title: string;
  blocks: Block[];
}
