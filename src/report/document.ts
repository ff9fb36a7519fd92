/**
 * A report as a small document model, built once and rendered to text, Markdown or HTML.
 */
export type Inline = string | { link: string; text: string } | { strong: string };

export type Block =
  | { kind: 'title'; text: string; subtitle?: string }
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: Inline[] }
  | { kind: 'alert'; level: 'critical' | 'warning' | 'info'; text: string }
  | { kind: 'list'; items: Inline[][]; ordered?: boolean }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'bars'; items: Array<{ label: string; value: number; note: string; tone: 'malignant' | 'intermediate' | 'benign' }> }
  | { kind: 'timeline'; items: Array<{ when: string; what: string }> }
  | { kind: 'details'; summary: string; blocks: Block[] };

export interface ReportDocument {
  lang: 'zh' | 'en';
  title: string;
  blocks: Block[];
}
