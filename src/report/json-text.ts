/**
 * The assessment's JSON text, as the HTTP API sends it: the same bytes as
 * `JSON.stringify(assessmentToJson(kb, a, lang, evidence))` (json-text.test.ts checks it on
 * generated cases), written without building the differential's objects first.
 *
 * The differential is most of the answer (about 60 % of its ~30 KiB, ~100 evidence terms in the
 * 'leading' scope) and is where building objects and then serialising them cost the most. Its
 * texts come from the knowledge base alone, so their JSON is made once per knowledge base and
 * language and spliced in: per entity `{"id":…,"name":…,"rank":`, per finding value
 * `{"finding":…,"value":…,"role":` and `,"text":…}`; only the numbers are written per answer.
 * The keys before and after the differential are the objects of json.ts, serialised by
 * JSON.stringify as before.
 */
import type { Assessment, DifferentialItem } from '../core/engine/assess.js';
import type { EvidenceTerm } from '../core/engine/differential.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import type { Lang } from '../i18n/index.js';
import { cachedFindingValueText, entityName } from './describe.js';
import { assessmentJsonHead, assessmentJsonTail, evidenceListed, JSON_MIN_ABS_LOG_LR, round, round4, type EvidenceScope } from './json.js';

const str = (s: string): string => JSON.stringify(s);
/** a number as JSON.stringify writes it (finite numbers as String does, the others as null) */
const num = (x: number): string => (Number.isFinite(x) ? String(x) : 'null');

/** The JSON fragments of one knowledge base in one language, made when first needed. */
class Fragments {
  /** entity id → `{"id":…,"name":…,"rank":` */
  private readonly heads = new Map<string, string>();
  /** finding → value → `{"finding":…,"value":…,"role":` and `,"text":…}` */
  private readonly terms = new Map<string, Map<string, { head: string; text: string }>>();
  /** role and direction → `"prior","direction":"for","lr":` */
  private readonly roles = new Map<string, string>();
  /** group → `,"group":…,"prior":` */
  private readonly groups = new Map<string, string>();
  constructor(private readonly kb: KnowledgeBase, private readonly lang: Lang) {}

  entityHead(id: string): string {
    let h = this.heads.get(id);
    if (h === undefined) this.heads.set(id, h = `{"id":${str(id)},"name":${str(entityName(this.kb, id, this.lang))},"rank":`);
    return h;
  }

  group(g: string): string {
    let h = this.groups.get(g);
    if (h === undefined) this.groups.set(g, h = `,"group":${str(g)},"prior":`);
    return h;
  }

  term(e: EvidenceTerm): string {
    let byValue = this.terms.get(e.finding);
    if (byValue === undefined) this.terms.set(e.finding, byValue = new Map());
    let t = byValue.get(e.value);
    if (t === undefined) {
      byValue.set(e.value, t = {
        head: `{"finding":${str(e.finding)},"value":${str(e.value)},"role":`,
        text: `,"text":${str(cachedFindingValueText(this.kb, e.finding, e.value, this.lang))}}`,
      });
    }
    const rk = `${e.role}|${e.direction}`;
    let r = this.roles.get(rk);
    if (r === undefined) this.roles.set(rk, r = `${str(e.role)},"direction":${str(e.direction)},"lr":`);
    return `${t.head}${r}${num(round4(e.lr))},"logLr":${num(round4(e.logLr))}${t.text}`;
  }
}

const fragments = new WeakMap<KnowledgeBase, Record<Lang, Fragments>>();

function fragmentsOf(kb: KnowledgeBase, lang: Lang): Fragments {
  let f = fragments.get(kb);
  if (f === undefined) fragments.set(kb, f = { en: new Fragments(kb, 'en'), zh: new Fragments(kb, 'zh') });
  return f[lang];
}

function evidenceText(f: Fragments, terms: readonly EvidenceTerm[]): string {
  let out = '[';
  let first = true;
  for (let i = 0; i < terms.length; i++) {
    const e = terms[i]!;
    if (Math.abs(e.logLr) < JSON_MIN_ABS_LOG_LR) continue;
    out += first ? f.term(e) : `,${f.term(e)}`;
    first = false;
  }
  return `${out}]`;
}

function differentialText(f: Fragments, ds: readonly DifferentialItem[], evidence: EvidenceScope): string {
  let out = '[';
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    if (i > 0) out += ',';
    out += `${f.entityHead(d.id)}${num(d.rank)},"probability":${num(round(d.probability))}${f.group(d.group)}${num(round(d.prior))}`;
    out += evidenceListed(evidence, d.rank, d.probability) ? `,"evidence":${evidenceText(f, d.evidence)}}` : '}';
  }
  return `${out}]`;
}

/** `JSON.stringify(assessmentToJson(kb, a, lang, evidence))`, the same bytes, made faster. */
export function assessmentJsonText(kb: KnowledgeBase, a: Assessment, lang: Lang, evidence: EvidenceScope = 'leading'): string {
  const head = JSON.stringify(assessmentJsonHead(kb, a, lang, evidence));
  const tail = JSON.stringify(assessmentJsonTail(kb, a, lang));
  const differential = `"differential":${differentialText(fragmentsOf(kb, lang), a.differential, evidence)}`;
  // head has `calcdx` always; tail has `groups` always (`{}` handled all the same)
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}${differential}${tail.length > 2 ? `,${tail.slice(1)}` : '}'}`;
}

/** a buffer the answers are encoded into before being copied out at their size; grows as needed */
let scratch: Buffer | undefined;

/**
 * The UTF-8 bytes of `s`: the same as Buffer.from(s). An answer's text has non-Latin-1 characters
 * (dashes, ≥, Chinese), and Buffer.from of such a string measures it, allocates and then writes it;
 * writing it into a reused buffer and copying the bytes out costs about half.
 */
export function utf8Bytes(s: string): Buffer {
  const most = 3 * s.length;
  if (scratch === undefined || scratch.length < most) scratch = Buffer.allocUnsafeSlow(Math.max(64 * 1024, most));
  const n = scratch.write(s, 0, 'utf8');
  const out = Buffer.allocUnsafe(n);
  scratch.copy(out, 0, 0, n);
  return out;
}

/** `Buffer.from(assessmentJsonText(…))`: the bytes the HTTP API sends. */
export const assessmentJsonBytes = (kb: KnowledgeBase, a: Assessment, lang: Lang, evidence: EvidenceScope = 'leading'): Buffer =>
  utf8Bytes(assessmentJsonText(kb, a, lang, evidence));
