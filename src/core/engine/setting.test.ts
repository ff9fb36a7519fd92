import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS, type CaseFile, type Setting } from '../case-format/schema.js';
import { compileKnowledgeBase } from '../knowledge/compile.js';
import { loadKnowledgeBase, readRawKnowledgeBase } from '../../io/kb-files.js';
import { arbitraryCase } from '../../test-support/arbitrary-case.js';
import { ROOT, exampleCases, textbookCases } from '../../test-support/cases.js';
import { assess } from './assess.js';
import { basePrior, referralThreshold, softmax } from './differential.js';

const kb = loadKnowledgeBase();
const raw = readRawKnowledgeBase();

/** the same knowledge base without any care setting in rules.yaml */
const kbWithoutSettings = (() => {
  const r = structuredClone(raw);
  delete (r.rules as { settings?: unknown }).settings;
  const c = compileKnowledgeBase(r);
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  return c.kb;
})();

const withoutSetting = (c: CaseFile): CaseFile => { const { setting: _s, ...rest } = c; return rest; };
const malignantShare = (logPrior: Float64Array): number => {
  const p = softmax(logPrior);
  let s = 0;
  for (let e = 0; e < p.length; e++) if (kb.groups[e] === 'malignant') s += p[e]!;
  return s;
};

interface Snapshot { file: string; malignancy: number; threshold: number; urgentReferral: boolean; differential: Record<string, number> }

describe('care setting: a case without one is assessed as before settings existed', () => {
  // probabilities of the four example cases and four textbook cases, first recorded from main before
  // `setting` had any effect (commit bb6159d); regenerated (scripts/dev/no-setting-snapshot.mjs) only with a
  // deliberate change of the knowledge base's likelihoods, each listed in notes/referral-model.md
  const snapshot = JSON.parse(readFileSync(join(ROOT, 'src/core/engine/fixtures/no-setting-snapshot.json'), 'utf8')) as Snapshot[];
  const all = [...exampleCases(), ...textbookCases()];
  for (const s of snapshot) {
    it(`${s.file}: same differential, malignancy probability, threshold and referral`, () => {
      const c = all.find((x) => x.file === s.file)!;
      const a = assess(kb, withoutSetting(c.case));
      expect(a.malignancy.threshold).toBe(s.threshold);
      expect(a.malignancy.urgentReferral).toBe(s.urgentReferral);
      expect(a.malignancy.probability).toBeCloseTo(s.malignancy, 10);
      for (const d of a.differential) expect(d.probability, d.id).toBeCloseTo(s.differential[d.id]!, 10);
    });
  }

  it('without a setting, the assessment equals that of a knowledge base with no settings at all (property)', () => {
    fc.assert(fc.property(arbitraryCase, (generated) => {
      const c = withoutSetting(generated);
      expect(JSON.stringify(assess(kb, c))).toBe(JSON.stringify(assess(kbWithoutSettings, c)));
    }), { numRuns: 150 });
  });

  it('without a setting, the prior is the entities\' own and the threshold is thresholds.urgentReferral', () => {
    const c: CaseFile = { formatVersion: 1 };
    expect(basePrior(kb, c)).toBe(kb.logPrior);
    expect(referralThreshold(kb, c)).toBe(kb.rules.thresholds.urgentReferral.value);
  });
});

describe('care setting: priors, base rates and thresholds from rules.yaml', () => {
  it('every setting of the case format is defined, with a prior that sums to 1', () => {
    for (const s of SETTINGS) {
      const st = kb.settings[s];
      expect(st, s).toBeDefined();
      const p = softmax(st!.logPrior);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      // softmax renormalises: the log prior must already be normalised
      expect(st!.logPrior.reduce((a, b) => a + Math.exp(b), 0)).toBeCloseTo(1, 12);
    }
  });

  it('each setting\'s prior has its malignancy base rate: primary care 2%, specialist 12.5%, sarcoma centre 40%', () => {
    const expected: Record<Setting, number> = { primary_care: 0.02, specialist: 0.125, sarcoma_centre: 0.4 };
    for (const s of SETTINGS) {
      expect(malignantShare(kb.settings[s]!.logPrior), s).toBeCloseTo(expected[s], 10);
      expect(kb.rules.settings[s]?.malignantShare?.value).toBe(expected[s]);
    }
    // the specialist base rate is the one the entity priors already carry
    expect(malignantShare(kb.logPrior)).toBeCloseTo(0.125, 2);
  });

  it('the malignant entities keep their proportions among themselves in every setting', () => {
    const mal = kb.groups.flatMap((g, e) => (g === 'malignant' ? [e] : []));
    for (const s of SETTINGS) {
      const lp = kb.settings[s]!.logPrior;
      for (const e of mal) expect(lp[e]! - lp[mal[0]!]!).toBeCloseTo(kb.logPrior[e]! - kb.logPrior[mal[0]!]!, 10);
    }
  });

  it('the threshold of each setting is the one the assessment reports; NICE 3% in primary care', () => {
    expect(kb.rules.settings.primary_care?.urgentReferral.src).toEqual(['nice-ng12-ppv']);
    for (const s of SETTINGS) {
      const a = assess(kb, { formatVersion: 1, setting: s });
      expect(a.malignancy.threshold).toBe(kb.rules.settings[s]!.urgentReferral.value);
    }
  });

  it('the same findings are more likely malignant the more specialised the setting (property)', () => {
    fc.assert(fc.property(arbitraryCase, (generated) => {
      const c = withoutSetting(generated);
      const p = SETTINGS.map((s) => assess(kb, { ...c, setting: s }).malignancy.probability);
      expect(p[0]!).toBeLessThanOrEqual(p[1]! * (1 + 1e-9));
      expect(p[1]!).toBeLessThanOrEqual(p[2]! * (1 + 1e-9));
    }), { numRuns: 150 });
  });

  it('a setting changes the prior, not the evidence: same likelihood ratios for every entity', () => {
    const c = exampleCases().find((x) => x.file.startsWith('synovial-sarcoma'))!.case;
    const base = assess(kb, withoutSetting(c));
    const centre = assess(kb, { ...c, setting: 'sarcoma_centre' });
    for (const d of base.differential) {
      const other = centre.differential.find((x) => x.id === d.id)!;
      expect(other.evidence.map((t) => t.logLr)).toEqual(d.evidence.map((t) => t.logLr));
    }
  });

  it('primary care: a growing lump and a known cancer send the case on their own (NICE NG12), elsewhere they do not', () => {
    const growing: CaseFile = { formatVersion: 1, patient: { age: 40, sex: 'female' }, symptoms: { growth: 'slow' }, lesion: { sizeCm: 2, depth: 'superficial' } };
    expect(assess(kb, { ...growing, setting: 'primary_care' }).malignancy.reasons).toContain('growing');
    expect(assess(kb, growing).malignancy.reasons).not.toContain('growing');
    const cancer: CaseFile = { formatVersion: 1, history: { knownPrimaryCancer: 'breast' } };
    expect(assess(kb, { ...cancer, setting: 'primary_care' }).malignancy.reasons).toContain('known_primary_cancer');
    expect(assess(kb, { ...cancer, setting: 'specialist' }).malignancy.reasons).not.toContain('known_primary_cancer');
  });

  it('primary care: an uncharacterised lump (no diagnosis more likely than not) is referred on that alone (NG12: uncertain imaging)', () => {
    const thin: CaseFile = { formatVersion: 1, patient: { age: 35, sex: 'female' }, lesion: { region: 'hand', depth: 'superficial', sizeCm: 1 } };
    const pc = assess(kb, { ...thin, setting: 'primary_care' });
    expect(pc.differential[0]!.probability).toBeLessThan(0.5);
    expect(pc.malignancy.probability).toBeLessThan(pc.malignancy.threshold);
    expect(pc.malignancy.reasons).toEqual(['indeterminate']);
    expect(assess(kb, { ...thin, setting: 'specialist' }).malignancy.reasons).not.toContain('indeterminate');
  });

  it('every malignant textbook case is sent to urgent referral in every setting', () => {
    for (const s of SETTINGS) {
      for (const c of textbookCases()) {
        if (kb.groups[kb.entityIndex.get(c.expected)!] !== 'malignant') continue;
        expect(assess(kb, { ...c.case, setting: s }).malignancy.urgentReferral, `${s} ${c.file}`).toBe(true);
      }
    }
  });

  it('a malignant textbook case stays referred when a red flag is added, in every setting', () => {
    // not a monotonicity of the probability, which the evidence does not support (pain counts against most
    // sarcomas; deep or large favours myositis ossificans or tumoral calcinosis as much as some sarcomas:
    // scripts/dev/monotone.mjs), but of the decision on the cases that must be referred
    const flags: Array<(c: CaseFile) => CaseFile> = [
      (c) => ({ ...c, lesion: { ...c.lesion, depth: 'deep' } }),
      (c) => ({ ...c, lesion: { ...c.lesion, sizeCm: 8 } }),
      (c) => ({ ...c, lesion: { ...c.lesion, sizeCm: 12 } }),
      (c) => ({ ...c, symptoms: { ...c.symptoms, growth: 'slow' } }),
      (c) => ({ ...c, symptoms: { ...c.symptoms, growth: 'rapid' } }),
      (c) => ({ ...c, symptoms: { ...c.symptoms, pain: true } }),
    ];
    for (const s of [undefined, ...SETTINGS]) {
      for (const t of textbookCases()) {
        if (kb.groups[kb.entityIndex.get(t.expected)!] !== 'malignant') continue;
        const c: CaseFile = s ? { ...t.case, setting: s } : withoutSetting(t.case);
        flags.forEach((add, i) => expect(assess(kb, add(c)).malignancy.urgentReferral, `${s} ${t.file} flag ${i}`).toBe(true));
      }
    }
  });

  it('a thin case never looks reassuring in any setting: few-findings warning, and indeterminate unless one diagnosis is more likely than not', () => {
    const thin: CaseFile[] = [
      { formatVersion: 1, patient: { age: 55, sex: 'male' }, lesion: { region: 'thigh' } },
      { formatVersion: 1, patient: { age: 30, sex: 'female' }, lesion: { region: 'knee', sizeCm: 4 } },
      { formatVersion: 1, lesion: { region: 'pelvis_buttock', depth: 'deep' } },
    ];
    for (const s of SETTINGS) {
      for (const c of thin) {
        const a = assess(kb, { ...c, setting: s });
        expect(a.warnings.map((w) => w.code), s).toContain('few_findings');
        if (a.differential[0]!.probability < 0.5) expect(a.redFlags.map((f) => f.id), s).toContain('indeterminate');
      }
    }
  });

  it('rejects a setting multiplier for an unknown entity and an unknown setting red flag, naming the path', () => {
    const r = structuredClone(raw);
    const rules = r.rules as { settings: Record<string, { priorMultipliers?: { value: Record<string, number> }; urgentRedFlags?: { value: string[] } }> };
    rules.settings.sarcoma_centre!.priorMultipliers!.value.no_such_entity = 2;
    rules.settings.primary_care!.urgentRedFlags!.value.push('no_such_flag');
    const c = compileKnowledgeBase(r);
    expect(c.ok).toBe(false);
    expect(c.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['settings.sarcoma_centre.priorMultipliers.value.no_such_entity', 'settings.primary_care.urgentRedFlags']));
  });
});
