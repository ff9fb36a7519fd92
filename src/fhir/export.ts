/**
 * Case and assessment → FHIR R4. The case's findings are written with the first row of the code map
 * for each field and value (LOINC, SNOMED CT, else the calcdx CodeSystem), so that importing the
 * result gives the same case back. The assessment becomes a collection Bundle: the Patient, the
 * findings, a RiskAssessment (one prediction per entity and one for malignancy; basis = the findings),
 * a DiagnosticReport (conclusion, the human report as HTML in both languages, the imaging findings as
 * results), a CarePlan of the follow-up visits and, when urgentReferral is true, a ServiceRequest for
 * the sarcoma team. Pure: the clock, the ids and the rendered reports are parameters.
 */
import type { CaseFile } from '../core/case-format/schema.js';
import type { Assessment } from '../core/engine/assess.js';
import type { KnowledgeBase } from '../core/knowledge/compile.js';
import { t, type Lang } from '../i18n/index.js';
import { entityName } from '../report/describe.js';
import type { CodeMap, MapEntry } from './code-map.js';
import { getPath } from './fields.js';

export type Resource = Record<string, unknown> & { resourceType: string };

export const CALCDX_FHIR = 'https://calcdx.invalid/fhir/CodeSystem/';
export const ENTITY_SYSTEM = `${CALCDX_FHIR}entity`;
export const REPORT_SYSTEM = `${CALCDX_FHIR}report`;
export const METHOD_SYSTEM = `${CALCDX_FHIR}method`;
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const UCUM = 'http://unitsofmeasure.org';
const SCT = 'http://snomed.info/sct';

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The row export writes for a field and value: a coded presence (Condition) if the table has one, else the Observation row. */
function rowFor(map: CodeMap, path: string, value: unknown): { entry: MapEntry; refuted: boolean } | undefined {
  const rows = map.entries.filter((e) => e.field.path === path && !e.prefix);
  const present = rows.find((e) => e.value !== undefined && e.value === value && e.resource === 'Condition');
  if (present) return { entry: present, refuted: false };
  const absent = rows.find((e) => e.resource === 'Condition' && (e.absent ?? (e.field.kind === 'boolean' ? false : undefined)) === value);
  if (absent) return { entry: absent, refuted: true };
  const obs = rows.find((e) => e.resource === 'Observation' && e.value === undefined);
  return obs ? { entry: obs, refuted: false } : undefined;
}

export interface FindingResources {
  patient: Resource;
  /** Observations and Conditions, each with the case field it carries */
  findings: Array<{ field: string; resource: Resource }>;
}

/**
 * The case as FHIR resources. `patientRef` is what the findings' subject points to. Patient.gender
 * carries the sex; the age is an Observation (LOINC 30525-0): the case has no birth date.
 */
export function caseToFhir(map: CodeMap, c: CaseFile, patientRef: string): FindingResources {
  const sex = getPath(c, map.sexField.path);
  const patient: Resource = { resourceType: 'Patient', ...(sex !== undefined ? { gender: sex } : {}) };
  const findings: FindingResources['findings'] = [];
  const subject = { reference: patientRef };
  for (const f of map.fields.values()) {
    if (f === map.sexField) continue;
    const raw = getPath(c, f.path);
    if (raw === undefined) continue;
    if (f.kind === 'list' && (raw as string[]).length === 0) {
      // an empty list is a statement (morphology [] = calcification seen, pattern not described)
      const e = rowFor(map, f.path, undefined)!.entry;
      findings.push({ field: f.path, resource: {
        resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: OBS_CATEGORY, code: map.file.categories[f.path.split('.')[0]!] ?? 'exam' }] }],
        code: { coding: [{ system: e.system, code: e.code, display: e.display }], text: e.display }, subject,
        dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' }], text: 'none listed' },
      } });
      continue;
    }
    for (const value of f.kind === 'list' ? (raw as string[]) : [raw]) {
      const row = rowFor(map, f.path, value);
      if (!row) throw new Error(`fhir export: no code map row for ${f.path}`);
      const e = row.entry;
      const code = { coding: [{ system: e.system, code: e.code, display: e.display }], text: e.display };
      if (e.resource === 'Condition') {
        findings.push({ field: f.path, resource: { resourceType: 'Condition', verificationStatus: { coding: [{ system: CONDITION_VER, code: row.refuted ? 'refuted' : 'confirmed' }] }, code, subject } });
        continue;
      }
      const category = map.file.categories[f.path.split('.')[0]!] ?? 'exam';
      const obs: Resource = { resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: OBS_CATEGORY, code: category }] }], code, subject, ...valueOf(map, f.path, f.kind, value) };
      findings.push({ field: f.path, resource: obs });
    }
  }
  return { patient, findings };
}

function valueOf(map: CodeMap, path: string, kind: string, v: unknown): Record<string, unknown> {
  switch (kind) {
    case 'boolean': return { valueBoolean: v };
    case 'integer': return { valueInteger: v };
    case 'date': return { valueDateTime: v };
    case 'number': {
      const u = map.units[path];
      return { valueQuantity: { value: v, ...(u ? { unit: u.unit, system: UCUM, code: u.unit } : {}) } };
    }
    default: {
      const coding = [{ system: map.valueSystem, code: String(v) }];
      const site = path === map.regionField.path ? map.siteOfRegion.get(String(v)) : undefined;
      if (site) coding.push({ system: SCT, code: site.code, display: site.display } as { system: string; code: string });
      return { valueCodeableConcept: { coding, text: String(v) } };
    }
  }
}

export interface BundleOptions {
  lang: Lang;
  /** ISO instant of the assessment */
  now: string;
  /** a new UUID */
  uuid: () => string;
  /** the clinician report as HTML, per language */
  html: Record<Lang, string>;
  version: string;
}

/** The referral a clinician can place: urgent, to the sarcoma team, proposed by calcdx. */
export function referralServiceRequest(a: Assessment, lang: Lang, subject: string, now: string, reason?: string): Resource {
  const critical = a.safety.filter((s) => s.severity === 'critical').map((s) => ({ text: s.text[lang] }));
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'proposal',
    priority: 'urgent',
    code: { coding: [{ system: SCT, code: '3457005', display: 'Patient referral (procedure)' }], text: lang === 'zh' ? '紧急转诊至肉瘤多学科团队' : 'Urgent referral to a sarcoma multidisciplinary team' },
    subject: { reference: subject },
    authoredOn: now,
    ...(reason ? { reasonReference: [{ reference: reason }] } : {}),
    reasonCode: [{ text: `${lang === 'zh' ? '恶性可能性' : 'Probability of malignancy'} ${(a.malignancy.probability * 100).toFixed(1)} %; ${a.malignancy.reasons.join(', ')}` }],
    ...(critical.length ? { note: critical } : {}),
  };
}

export function assessmentToBundle(kb: KnowledgeBase, map: CodeMap, c: CaseFile, a: Assessment, o: BundleOptions): Resource {
  const url = () => `urn:uuid:${o.uuid()}`;
  const patientUrl = url();
  const { patient, findings } = caseToFhir(map, c, patientUrl);
  const findingUrls = findings.map(() => url());
  const name = (id: string) => entityName(kb, id, o.lang);
  const entries: Array<{ fullUrl: string; resource: Resource }> = [{ fullUrl: patientUrl, resource: patient }];
  findings.forEach((f, i) => entries.push({ fullUrl: findingUrls[i]!, resource: f.resource }));
  const subject = { reference: patientUrl };

  const raUrl = url();
  const leading = a.differential[0];
  entries.push({
    fullUrl: raUrl,
    resource: {
      resourceType: 'RiskAssessment',
      status: 'final',
      subject,
      occurrenceDateTime: o.now,
      method: { coding: [{ system: METHOD_SYSTEM, code: 'calcdx-bayes', display: 'calcdx naive Bayes over a cited knowledge base' }], text: `calcdx ${o.version}` },
      basis: findingUrls.map((u) => ({ reference: u })),
      prediction: [
        ...a.differential.map((d) => ({
          outcome: { coding: [{ system: ENTITY_SYSTEM, code: d.id, display: name(d.id) }], text: name(d.id) },
          probabilityDecimal: round6(d.probability),
        })),
        {
          outcome: { coding: [{ system: SCT, code: '363346000', display: 'Malignant neoplastic disease (disorder)' }], text: o.lang === 'zh' ? '恶性（任一恶性实体）' : 'Malignancy (any malignant entity)' },
          probabilityDecimal: round6(a.malignancy.probability),
          rationale: a.malignancy.urgentReferral
            ? (o.lang === 'zh' ? `需紧急转诊：${a.malignancy.reasons.join('、')}` : `urgent referral: ${a.malignancy.reasons.join(', ')}`)
            : (o.lang === 'zh' ? '无需紧急转诊' : 'no urgent referral'),
        },
      ],
      ...(a.malignancy.urgentReferral ? { mitigation: o.lang === 'zh' ? '紧急转诊至肉瘤多学科团队；任何切除前由肉瘤团队行穿刺活检' : 'Urgent referral to a sarcoma multidisciplinary team; core biopsy by the sarcoma team before any excision' } : {}),
      note: [{ text: kb.plans.disclaimer[o.lang] }],
    },
  });

  // imaging findings (CT values as given in the case: the case format does not say whether calcdx ct measured them)
  const imagingUrls = findings.map((f, i) => (f.field.startsWith('imaging.') ? findingUrls[i]! : undefined)).filter((u): u is string => u !== undefined);
  const pctText = (p: number) => `${(p * 100).toFixed(1)} %`;
  const conclusion = !leading ? kb.plans.disclaimer[o.lang] : o.lang === 'zh'
    ? `${name(leading.id)} ${pctText(leading.probability)}；恶性可能性 ${pctText(a.malignancy.probability)}${a.malignancy.urgentReferral ? '；需紧急转诊至肉瘤团队' : ''}。${kb.plans.disclaimer.zh}`
    : `${name(leading.id)} ${pctText(leading.probability)}; malignancy ${pctText(a.malignancy.probability)}${a.malignancy.urgentReferral ? '; urgent referral to a sarcoma team' : ''}. ${kb.plans.disclaimer.en}`;
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  entries.push({
    fullUrl: url(),
    resource: {
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { coding: [{ system: REPORT_SYSTEM, code: 'calcdx-assessment', display: 'calcdx assessment of a calcified soft-tissue lesion' }], text: 'calcdx assessment' },
      subject,
      effectiveDateTime: o.now,
      issued: o.now,
      ...(imagingUrls.length ? { result: imagingUrls.map((u) => ({ reference: u })) } : {}),
      conclusion,
      ...(leading ? { conclusionCode: [{ coding: [{ system: ENTITY_SYSTEM, code: leading.id, display: name(leading.id) }] }] } : {}),
      presentedForm: (['en', 'zh'] as const).map((l) => ({
        contentType: 'text/html', language: l, data: b64(o.html[l]), title: l === 'zh' ? 'calcdx 报告（中文）' : 'calcdx report (English)',
      })),
    },
  });

  const visits = a.followUp.visits;
  entries.push({
    fullUrl: url(),
    resource: {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject,
      created: o.now,
      title: a.followUp.label[o.lang],
      description: a.followUp.note[o.lang],
      ...(visits.length ? {
        activity: visits.map((v) => ({
          detail: {
            kind: 'Appointment',
            status: 'scheduled',
            description: v.items.map((i) => t(o.lang, `followItem.${i}`)).join(o.lang === 'zh' ? '、' : ', '),
            ...(v.date ? { scheduledPeriod: { start: v.date } } : { scheduledString: t(o.lang, 'report.month', { m: v.month }) }),
          },
        })),
      } : {}),
    },
  });

  if (a.malignancy.urgentReferral) entries.push({ fullUrl: url(), resource: referralServiceRequest(a, o.lang, patientUrl, o.now, raUrl) });

  return { resourceType: 'Bundle', type: 'collection', timestamp: o.now, entry: entries };
}
