/**
 * Property: export → import → export is lossless for any registry content the store accepts
 * (names and notes in any script, optional fields absent or present, visits done or cancelled).
 * On SQLite (temporary files); the contract suite checks the same round trip on PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ExportRecord } from './export-format.js';
import { openRegistry } from './open.js';
import { SEXES, SIDES } from './schema.js';
import { sqliteFactory } from './test-db.js';

const f = sqliteFactory();
afterAll(() => f.cleanup());

const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => s.trim().length > 0 && s.trim() === s);
const date = fc.integer({ min: 0, max: 20000 }).map((n) => new Date(Date.UTC(1950, 0, 1) + n * 86_400_000).toISOString().slice(0, 10));
const patientArb = fc.record({
  mrn: fc.option(text, { nil: undefined }), name: fc.option(text, { nil: null }), birthDate: fc.option(date, { nil: undefined }),
  sex: fc.option(fc.constantFrom(...SEXES), { nil: null }),
}, { requiredKeys: [] });
const lesionArb = fc.record({ site: text, side: fc.option(fc.constantFrom(...SIDES), { nil: null }), firstSeen: fc.option(date, { nil: undefined }) });
const visitArb = fc.record({
  month: fc.integer({ min: 1, max: 60 }),
  fate: fc.constantFrom('open', 'done', 'cancelled'),
  sizeMm: fc.option(fc.double({ min: 0.1, max: 500, noNaN: true }), { nil: undefined }),
  note: fc.option(fc.string({ maxLength: 200 }), { nil: null }),
});
const registryArb = fc.array(fc.record({ patient: patientArb, lesions: fc.array(fc.record({ lesion: lesionArb, visits: fc.array(visitArb, { maxLength: 4 }), start: date }), { maxLength: 3 }) }), { maxLength: 4 });

async function all(it: AsyncIterable<ExportRecord>): Promise<ExportRecord[]> {
  const out: ExportRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('registry export / import', () => {
  it('round-trips any registry content losslessly', async () => {
    await fc.assert(fc.asyncProperty(registryArb, async (reg) => {
      const src = await openRegistry(await f.fresh());
      const dst = await openRegistry(await f.fresh());
      try {
        const mrns = new Set<string>();
        for (const { patient, lesions } of reg) {
          if (patient.mrn !== undefined) { if (mrns.has(patient.mrn)) continue; mrns.add(patient.mrn); }
          const p = await src.createPatient(patient, null);
          for (const { lesion, visits, start } of lesions) {
            const l = await src.createLesion({ ...lesion, patientId: p.id }, null);
            const a = await src.addAssessment({
              lesionId: l.id, caseInput: { site: lesion.site }, output: { followUp: { scheme: 'x', visits: visits.map((v) => ({ month: v.month, items: ['clinical'] })) }, differential: [{ id: 'e1' }] },
              kbVersion: 'kb-test', engineVersion: '0', assessedOn: start,
            }, null);
            if (!visits.length) continue;
            const { visits: made } = await src.createPlan({ assessmentId: a.id, startDate: start }, null);
            for (const [i, v] of visits.entries()) {
              if (v.fate === 'done') await src.recordVisit(made[i]!.id, 1, { doneOn: start, findings: { sizeMm: v.sizeMm ?? null, note: v.note } });
              else if (v.fate === 'cancelled') await src.cancelVisit(made[i]!.id, 1);
            }
          }
        }
        const first = await all(src.exportRecords());
        await dst.importRecords(first);
        const second = await all(dst.exportRecords());
        expect(second.slice(1)).toEqual(first.slice(1));
      } finally {
        await src.close();
        await dst.close();
      }
    }), { numRuns: 15 });
  });
});
