import { describe, expect, it } from 'vitest';
import type { CaseFile } from '../core/case-format/schema.js';
import { mergeFindings } from './ct-merge.js';

type Fragment = Parameters<typeof mergeFindings>[1];

describe('mergeFindings: the reader wins over the CT measurement', () => {
  it('a pattern the reader excluded is not added back by the measurement, and the difference is reported', () => {
    const c: CaseFile = { formatVersion: 1, imaging: { calcification: { morphologyAbsent: ['rim'] } } };
    const fragment = { imaging: { calcification: { morphology: ['rim', 'punctate'], distribution: 'peripheral' } } } as unknown as Fragment;
    const m = mergeFindings(c, fragment);
    expect(m.case.imaging?.calcification?.morphology).toEqual(['punctate']);
    expect(m.case.imaging?.calcification?.morphologyAbsent).toEqual(['rim']);
    expect(m.conflicts).toEqual(['imaging.calcification.morphologyAbsent']);
    expect(m.measured).toEqual(['imaging.calcification.morphology', 'imaging.calcification.distribution']);
  });

  it('a value the case gives is kept and a different measurement reported', () => {
    const c: CaseFile = { formatVersion: 1, imaging: { calcification: { distribution: 'central' } } };
    const fragment = { imaging: { calcification: { distribution: 'peripheral' } } } as unknown as Fragment;
    const m = mergeFindings(c, fragment);
    expect(m.case.imaging?.calcification?.distribution).toBe('central');
    expect(m.conflicts).toEqual(['imaging.calcification.distribution']);
  });
});
