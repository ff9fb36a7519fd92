/**
 * The texts of the FHIR adapter (import report, errors), in both languages. Kept beside the code that
 * uses them so the shared catalogues stay untouched; the codes are stable and documented in the README.
 */
import type { Lang } from '../i18n/index.js';

type Params = Record<string, string | number>;
type Msg = { en: string; zh: string };

export const FHIR_MESSAGES = {
  // why an item was not mapped (import report)
  not_read_type: { en: 'resource type {type} is not read by calcdx', zh: 'calcdx 不读取 {type} 类资源' },
  not_resource: { en: 'entry without a FHIR resource', zh: '条目中没有 FHIR 资源' },
  no_coding: { en: 'no coding with a system and a code', zh: '没有带 system 和 code 的编码' },
  unknown_code: { en: 'code not in the calcdx mapping table (data/fhir/code-map.yaml)', zh: '编码不在 calcdx 映射表中（data/fhir/code-map.yaml）' },
  not_used: { en: 'known code, not used: {why}', zh: '已识别的编码，未使用：{why}' },
  status: { en: 'status {status}: not a usable result', zh: '状态为 {status}：不是可用的结果' },
  not_confirmed: { en: 'verification status {status}: not confirmed', zh: '核实状态为 {status}：未确认' },
  no_value: { en: 'no value', zh: '没有数值' },
  limit_value: { en: 'the value is a limit ({comparator}), not a measurement', zh: '数值是界限（{comparator}），不是测量值' },
  bad_unit: { en: 'unit {unit} cannot be converted to {target}; accepted: {allowed}', zh: '单位 {unit} 无法换算为 {target}；可接受：{allowed}' },
  wrong_value_type: { en: 'expected {expected}', zh: '应为 {expected}' },
  value_not_allowed: { en: 'value {found} is not allowed for {field}; allowed: {allowed}', zh: '{field} 不接受取值 {found}；允许：{allowed}' },
  superseded: { en: 'superseded by a later value ({by})', zh: '已被更新的值取代（{by}）' },
  other_patient: { en: 'belongs to another patient', zh: '属于另一位患者' },
  gender: { en: 'gender {gender} has no case-format value (male | female)', zh: '性别 {gender} 在病例格式中没有对应值（male | female）' },
  birth_date: { en: 'birthDate {found} is not a date before the reference date {ref}', zh: 'birthDate {found} 不是参考日期 {ref} 之前的日期' },
  no_site: { en: 'surgical procedure without a body site calcdx can compare with the lesion region', zh: '手术没有可与病灶部位比较的身体部位' },
  other_site: { en: 'operation at {site}, not at the lesion region ({region})', zh: '手术部位为 {site}，不是病灶部位（{region}）' },
  not_surgical: { en: 'procedure not in the mapping table and not categorised as a surgical procedure (SNOMED CT 387713003)', zh: '该操作不在映射表中，也未归类为手术（SNOMED CT 387713003）' },
  case_invalid: { en: 'not accepted by case format v1: {message}', zh: '病例格式 v1 不接受：{message}' },
  no_results: { en: 'diagnostic report without result Observations calcdx can read', zh: '诊断报告中没有 calcdx 可读取的结果 Observation' },
  // errors (the whole input is refused)
  not_json: { en: 'the input is not JSON: {detail}', zh: '输入不是 JSON：{detail}' },
  not_bundle: { en: 'expected a FHIR Bundle or a CDS Hooks prefetch object; found {found}', zh: '应为 FHIR Bundle 或 CDS Hooks 预取对象；实际为 {found}' },
  bad_entries: { en: 'Bundle.entry must be a list of entries', zh: 'Bundle.entry 必须是条目列表' },
  no_patient: { en: 'no Patient resource: calcdx needs the patient (gender, birth date) to assess a case', zh: '没有 Patient 资源：calcdx 评估病例需要患者信息（性别、出生日期）' },
  several_patients: { en: '{count} different patients in one input; send one patient at a time', zh: '一次输入中有 {count} 位不同患者；请一次只发送一位患者' },
  too_large: { en: 'the body is larger than the limit of {limit} bytes', zh: '正文超过 {limit} 字节的上限' },
  strict_unmapped: { en: '{count} item(s) could not be mapped (strict mode)', zh: '{count} 项无法映射（严格模式）' },
  unsupported_media_type: { en: 'send FHIR JSON (Content-Type application/fhir+json or application/json)', zh: '请发送 FHIR JSON（Content-Type 为 application/fhir+json 或 application/json）' },
  bad_parameter: { en: 'query parameter {name}: found {found}; allowed: {allowed}', zh: '查询参数 {name}：实际为 {found}；允许：{allowed}' },
  unmapped_item: { en: '{why}', zh: '{why}' },
  bad_reference_date: { en: 'reference date {found} is not a date YYYY-MM-DD', zh: '参考日期 {found} 不是 YYYY-MM-DD 格式的日期' },
} as const satisfies Record<string, Msg>;
export type FhirMessageCode = keyof typeof FHIR_MESSAGES;

export function fhirText(lang: Lang, code: FhirMessageCode, params: Params = {}): string {
  return FHIR_MESSAGES[code][lang].replace(/\{(\w+)\}/g, (m, k: string) => (params[k] !== undefined ? String(params[k]) : m));
}

/** A FHIR input refused as a whole: status, and issues rendered as an OperationOutcome per language. */
export interface FhirIssue { code: FhirMessageCode; params?: Params; expression?: string; type?: string }

export class FhirInputError extends Error {
  constructor(readonly status: number, readonly issues: FhirIssue[]) {
    super(issues.map((i) => i.code).join(', '));
    this.name = 'FhirInputError';
  }
  /** one line per issue, for the command line */
  render(lang: Lang): string {
    return this.issues.map((i) => `${i.expression ? `${i.expression}: ` : ''}${fhirText(lang, i.code, i.params)}`).join('\n  ');
  }
}

const ISSUE_TYPE: Partial<Record<FhirMessageCode, string>> = {
  not_json: 'structure', not_bundle: 'structure', bad_entries: 'structure', no_patient: 'required', several_patients: 'business-rule',
  too_large: 'too-costly', unsupported_media_type: 'not-supported', bad_parameter: 'value', strict_unmapped: 'not-supported', bad_reference_date: 'value',
};

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{ severity: 'fatal' | 'error' | 'warning' | 'information'; code: string; diagnostics?: string; details?: { text: string }; expression?: string[] }>;
}

export function operationOutcome(lang: Lang, issues: FhirIssue[], severity: 'error' | 'warning' = 'error'): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity, code: i.type ?? ISSUE_TYPE[i.code] ?? 'processing',
      details: { text: fhirText(lang, i.code, i.params) },
      diagnostics: i.code,
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  };
}
