/**
 * The OpenAPI 3.1 document of the HTTP API. Request and response schemas are generated with
 * z.toJSONSchema from zod schemas: the case from the same caseSchema that validates a case, the
 * responses from the zod schemas below (which the tests check the real responses against).
 */
import { z } from 'zod';
import { caseJsonSchema } from '../core/case-format/json-schema.js';
import { EVIDENCE_SCOPES, LEADING_EVIDENCE_ENTITIES, LIKELY_MIN_PROBABILITY } from '../report/json.js';
import { VERSION } from '../report/version.js';
import { PROBLEM_CODES } from './problem.js';
import { assessFormatParam, cdsSecuritySchemes, fhirOpenApiPaths, fhirOpenApiSchemas } from './openapi-fhir.js';
import { registryOpenApiPaths, registryOpenApiSchemas, registrySecuritySchemes } from './openapi-registry.js';
import { pacsOpenApiPaths, pacsOpenApiSchemas } from './openapi-pacs.js';
import { asComponent, componentSchema, jsonResponse, langParam as lang, problemResponse, queuedResponse, ref } from './openapi-parts.js';

const allowed = z.union([z.string(), z.looseObject({})]);

export const problemSchema = z.object({
  type: z.string().describe('URI of the problem type (stable per code)'),
  title: z.string().describe('short translated summary of the problem type'),
  status: z.number().int(),
  detail: z.string().describe('translated explanation of this occurrence'),
  instance: z.string().describe('the request path (without its query)'),
  code: z.enum(PROBLEM_CODES),
  reason: z.string().optional().describe('finer code: an error, imaging or ROI code'),
  errors: z.array(z.object({
    path: z.string().describe('field path: a case field (patient.age), query.<name> or form.<name>'),
    code: z.string(),
    found: z.string().optional(),
    allowed: allowed.optional(),
    message: z.string().describe('the issue rendered in the requested language'),
  })).optional(),
}).describe('RFC 9457 problem details');

export const healthSchema = z.object({ status: z.literal('ok'), version: z.string(), entities: z.number().int() });
export const validSchema = z.object({ valid: z.literal(true) });

const bilingual = z.object({ zh: z.string(), en: z.string() });
export const kbListSchema = z.array(z.object({ id: z.string(), names: bilingual, group: z.string(), seed: z.boolean() }));
export const kbEntitySchema = z.looseObject({ id: z.string(), names: bilingual, group: z.string() });

const evidence = z.looseObject({
  finding: z.string(), value: z.string(), role: z.string(), direction: z.string(), lr: z.number(), logLr: z.number(), text: z.string(),
});
/** The public contract of `calcdx assess --format json` (other keys may be added). */
export const assessmentSchema = z.looseObject({
  calcdx: z.object({
    assessmentVersion: z.literal(1), lang: z.enum(['zh', 'en']), evidence: z.enum(EVIDENCE_SCOPES).describe('whose evidence is listed (query `evidence`)'),
    version: z.string().describe('calcdx version'), knowledgeBase: z.string().describe('fingerprint of the knowledge base (kb-xxxxxxxx)'),
  }),
  assessedOn: z.string().optional().describe('the assessment date (query `date`, default today)'),
  differential: z.array(z.looseObject({
    id: z.string(), name: z.string(), rank: z.number(), probability: z.number(), group: z.string(), prior: z.number(),
    evidence: z.array(evidence).optional().describe(`likelihood ratios behind the rank (|LR| ≥ 1.1); present for the first entity and the others of the first ${LEADING_EVIDENCE_ENTITIES} with probability ≥ ${LIKELY_MIN_PROBABILITY} ('likely', the default), the first ${LEADING_EVIDENCE_ENTITIES} ('leading'), every entity ('all') or none ('none'); the other keys are the same in every scope`),
  })),
  malignancy: z.looseObject({
    probability: z.number(), urgentReferral: z.boolean(),
    decision: z.looseObject({
      kind: z.enum(['urgent_referral', 'sarcoma_centre_review', 'safety_net_reimaging', 'routine']),
      reason: z.string().describe('why: the sentence that reconciles the red flags with the decision'),
      reimageFrom: z.string().optional(), reimageBy: z.string().optional(), reviewBy: z.string().optional(),
      referIf: z.array(z.object({ id: z.string(), text: z.string() })).optional(),
    }).describe('the plan that closes the assessment'),
  }),
  cantMiss: z.array(z.looseObject({ id: z.string(), probability: z.number(), display: z.string() })).describe('the most probable malignant entities, whatever their rank'),
  redFlags: z.array(z.object({ id: z.string(), text: z.string() })),
  nextQuestions: z.array(z.looseObject({ finding: z.string(), expectedGain: z.number() })),
  mechanism: z.array(z.looseObject({ id: z.string(), probability: z.number() })),
  safety: z.array(z.looseObject({})),
  workup: z.array(z.looseObject({})),
  treatment: z.looseObject({}),
  staging: z.unknown(),
  prognosis: z.looseObject({}),
  followUp: z.looseObject({}),
  warnings: z.array(z.looseObject({ code: z.string(), text: z.string() })),
  disclaimer: z.string(),
});

export const ctResultSchema = z.object({
  measurement: z.looseObject({
    volume: z.looseObject({ dims: z.array(z.number()), spacing: z.array(z.number()) }),
    roi: z.looseObject({}),
    options: z.looseObject({}),
    lesion: z.looseObject({}),
    components: z.array(z.looseObject({})),
    pattern: z.looseObject({}),
  }).describe('what `calcdx ct --json` prints'),
  findings: z.object({ imaging: z.looseObject({}) }).describe('case-format fragment (imaging.ct, imaging.calcification) to merge into the case'),
  labels: z.string().describe('the connected-component labels over the volume grid (0 = background) as a gzip-compressed NIfTI-1 file, base64'),
});

export const ctFormSchema = z.object({
  file: z.array(z.string()).describe('one NIfTI file (.nii, .nii.gz), one .zip of DICOM files, or several DICOM files (form parts with any name but "mask")'),
  mask: z.string().optional().describe('an ROI mask as NIfTI (non-zero = inside) over the same grid; used when roi is "mask"'),
  roi: z.string().describe('box:i0,j0,k0,i1,j1,k1 | box-mm:x0,y0,z0,x1,y1,z1 | sphere:i,j,k,r | sphere-mm:x,y,z,r | sphere-ijk-mm:i,j,k,r | mask (the uploaded mask part) | whole'),
  threshold: z.string().optional().describe('calcified means HU above this (default 100)'),
  connectivity: z.enum(['26', '6']).optional(),
  minVoxels: z.string().optional().describe('drop components smaller than this (default 1)'),
  series: z.string().optional().describe('SeriesInstanceUID when the upload holds several series'),
});

export const volumeFormSchema = z.object({
  file: z.array(z.string()).describe('the DICOM files of one series (form parts with any name), one .zip of DICOM files, or one NIfTI file (.nii, .nii.gz)'),
  series: z.string().optional().describe('SeriesInstanceUID when the upload holds several series'),
});

const langParam = lang('language of the texts (default: Accept-Language, else English)');
const dateParam = { name: 'date', in: 'query', required: false, schema: { type: 'string', format: 'date' }, description: 'assessment date YYYY-MM-DD: dates the plan (re-imaging, review) and the follow-up of an unoperated lesion (default: today, UTC)' };
const evidenceParam = {
  name: 'evidence', in: 'query', required: false, schema: { type: 'string', enum: [...EVIDENCE_SCOPES], default: 'likely' },
  description: `whose evidence (likelihood ratios) is listed; the other entities are compact rows (id, name, rank, probability, group, prior) and every other key is the same in every scope: likely = the entities still in contention, the first of the differential and the others of the first ${LEADING_EVIDENCE_ENTITIES} with probability ≥ ${LIKELY_MIN_PROBABILITY} (default), leading = the first ${LEADING_EVIDENCE_ENTITIES} entities (what \`calcdx assess --format json\` lists by default), all = every entity (about 4× larger than leading), none`,
};
const caseBody = {
  required: true,
  description: 'a case, format version 1 (JSON; YAML with Content-Type application/yaml or text/plain); at most 1 MiB',
  content: { 'application/json': { schema: ref('Case') }, 'application/yaml': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } },
};
const common = { 400: problemResponse('the body is not valid JSON or YAML, or a parameter is not allowed'), 413: problemResponse('the body is larger than the limit'), 415: problemResponse('unsupported content type'), 422: problemResponse('not a valid case; `errors` lists every issue with its path') };

let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'calcdx HTTP API',
      version: VERSION,
      description: 'Clinical decision support for soft-tissue tumours with calcification. Supports a doctor; does not replace one. Every error is RFC 9457 problem+json.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths: {
      '/api/health': { get: { summary: 'liveness', responses: { 200: jsonResponse('ok', ref('Health')) } } },
      '/api/assess': {
        post: {
          summary: 'assess a case (the same JSON as `calcdx assess --format json`, with the same --evidence)', parameters: [langParam, evidenceParam, dateParam, assessFormatParam], requestBody: caseBody,
          responses: { 200: jsonResponse('the assessment', ref('Assessment')), ...common },
        },
      },
      '/api/validate': {
        post: {
          summary: 'check a case against case format v1', parameters: [langParam], requestBody: caseBody,
          responses: { 200: jsonResponse('valid', ref('Valid')), ...common },
        },
      },
      '/api/kb': { get: { summary: 'the knowledge-base entities', responses: { 200: jsonResponse('entity list', ref('KbList')) } } },
      '/api/kb/{id}': {
        get: {
          summary: 'one knowledge-base entity (as `calcdx kb show --json`)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: jsonResponse('the entity', ref('KbEntity')), 404: problemResponse('unknown entity') },
        },
      },
      '/api/report': {
        post: {
          summary: 'the report as HTML (self-contained), Markdown or text',
          parameters: [
            { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['html', 'md', 'text'], default: 'html' } },
            langParam,
            { name: 'audience', in: 'query', required: false, schema: { type: 'string', enum: ['clinician', 'patient'], default: 'clinician' }, description: 'a patient report is Chinese unless lang or Accept-Language says otherwise' },
            dateParam,
          ],
          requestBody: caseBody,
          responses: {
            200: { description: 'the report', content: { 'text/html': { schema: { type: 'string' } }, 'text/markdown': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } } },
            ...common,
          },
        },
      },
      '/api/followup.ics': {
        post: {
          summary: 'the dated follow-up visits as iCalendar (needs treatment.surgeryDate)', parameters: [langParam], requestBody: caseBody,
          responses: { 200: { description: 'calendar', content: { 'text/calendar': { schema: { type: 'string' } } } }, ...common },
        },
      },
      '/api/ct': {
        post: {
          summary: 'measure the calcification inside an ROI on an uploaded CT (as `calcdx ct --json`)',
          parameters: [langParam],
          requestBody: { required: true, content: { 'multipart/form-data': { schema: ref('CtForm') } } },
          responses: {
            200: jsonResponse('measurement, case-format findings and the component label mask', ref('CtResult')),
            400: problemResponse('missing or malformed ROI or option, no file'),
            413: problemResponse('upload larger than the limit'),
            415: problemResponse('not multipart/form-data'),
            422: problemResponse('the upload is not a readable CT volume, or the ROI does not fit it'),
            429: problemResponse('too many CT jobs at once; retry after the Retry-After seconds'),
          },
        },
      },
      '/api/volume': {
        post: {
          summary: 'the HU volume of an uploaded CT (a DICOM series, a zip of one, or a NIfTI file) as a gzip-compressed NIfTI-1 file, for a viewer',
          parameters: [langParam],
          requestBody: { required: true, content: { 'multipart/form-data': { schema: ref('VolumeForm') } } },
          responses: {
            200: {
              description: 'the volume in Hounsfield units (int16, or float32 when the rescale is not integral) over the CT grid, with its orientation (RAS sform and qform)',
              headers: {
                'X-Calcdx-Warnings': { description: 'the reader\'s warnings (gantry tilt, irregular spacing, not CT…) as a JSON array of strings, non-ASCII characters escaped as \\uXXXX', schema: { type: 'string' } },
                'X-Calcdx-Dims': { description: 'columns,rows,slices', schema: { type: 'string' } },
              },
              content: { 'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } } },
            },
            400: problemResponse('no file, or a field not allowed'),
            413: problemResponse('upload larger than the limit, or too many files'),
            415: problemResponse('not multipart/form-data'),
            422: problemResponse('the upload is not a readable CT volume (the detail names the file by its uploaded name)'),
            429: problemResponse('too many CT jobs (measurements and conversions together) at once; retry after the Retry-After seconds'),
          },
        },
      },
      ...pacsOpenApiPaths(),
      '/api/ct/jobs': {
        post: {
          summary: 'queue a CT measurement for `calcdx worker` processes (needs `calcdx serve --db`): an upload as for /api/ct, or JSON naming a series of a configured DICOMweb archive',
          parameters: [langParam],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: ref('CtForm') },
              'application/json': { schema: { type: 'object', required: ['dicomweb', 'roi'], additionalProperties: false, properties: {
                dicomweb: { type: 'object', required: ['archive', 'study'], additionalProperties: false, properties: { archive: { type: 'string' }, study: { type: 'string' }, series: { type: 'string' } } },
                roi: { type: 'string' }, threshold: { type: ['number', 'string'] }, connectivity: { type: ['number', 'string'] }, minVoxels: { type: ['number', 'string'] },
              } } },
            },
          },
          responses: {
            202: queuedResponse(),
            400: problemResponse('malformed ROI or option, an archive that is not configured, a body that is neither multipart nor the JSON above'),
            413: problemResponse('upload larger than the queue\'s limit'),
            503: problemResponse('no queue: the server was started without --db'),
          },
        },
      },
      '/api/ct/queue': {
        get: {
          summary: 'whether this server queues CT jobs (started with --db postgres://…): the web app sends its measurements to /api/ct/jobs then, else to /api/ct',
          parameters: [langParam],
          responses: { 200: { description: 'the queue', content: { 'application/json': { schema: { type: 'object', required: ['configured'], properties: { configured: { type: 'boolean' } } } } } } },
        },
      },
      '/api/ct/jobs/{id}': {
        get: {
          summary: 'a queued CT job: state (queued, running, retrying, completed, failed, dead, expired), progress 0–100, attempt, and its result (as /api/ct answers) or error (a problem)',
          parameters: [langParam, { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { 200: { description: 'the job', content: { 'application/json': { schema: { type: 'object', required: ['id', 'state', 'progress', 'attempt'], properties: { id: { type: 'string' }, state: { type: 'string' }, progress: { type: 'integer' }, attempt: { type: 'integer' }, result: ref('CtResult'), error: ref('Problem') } } } } }, 404: problemResponse('no such job (ended jobs are kept 7 days)'), 503: problemResponse('no queue') },
        },
      },
      '/api/ct/jobs/{id}/events': {
        get: {
          summary: 'server-sent events of a queued CT job: `state` and `progress` events with data {id, state, progress, attempt}, from its current state to its end',
          parameters: [langParam, { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { 200: { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: problemResponse('no such job'), 503: problemResponse('no queue') },
        },
      },
      ...fhirOpenApiPaths(),
      ...registryOpenApiPaths(),
      '/api/openapi.json': { get: { summary: 'this document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
    components: {
      securitySchemes: { ...cdsSecuritySchemes, ...registrySecuritySchemes },
      schemas: {
        ...fhirOpenApiSchemas(),
        ...registryOpenApiSchemas(),
        ...pacsOpenApiSchemas(),
        Case: asComponent(caseJsonSchema()),
        Assessment: componentSchema(assessmentSchema),
        Problem: componentSchema(problemSchema),
        Health: componentSchema(healthSchema),
        Valid: componentSchema(validSchema),
        KbList: componentSchema(kbListSchema),
        KbEntity: componentSchema(kbEntitySchema),
        CtForm: componentSchema(ctFormSchema),
        CtResult: componentSchema(ctResultSchema),
        VolumeForm: componentSchema(volumeFormSchema),
      },
    },
  };
  return cached;
}
