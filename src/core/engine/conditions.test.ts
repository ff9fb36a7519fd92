import { describe, expect, it } from 'vitest';
import type { Group } from '../knowledge/schema.js';
import { condition } from '../knowledge/schema.js';
import { holds, type ConditionContext } from './conditions.js';

const groups: Record<Group, number> = { benign: 0.3, intermediate: 0.05, malignant: 0.2, non_neoplastic: 0.45 };
const ctx: ConditionContext = { case: { formatVersion: 1 }, groupProbability: (g) => groups[g] };

describe('groupProbability conditions', () => {
  it('reads one group, or the sum of several', () => {
    expect(holds({ groupProbability: 'malignant', gte: 0.2 }, ctx)).toBe(true);
    expect(holds({ groupProbability: 'malignant', gte: 0.21 }, ctx)).toBe(false);
    // benign + intermediate + malignant = 0.55
    expect(holds({ groupProbability: ['benign', 'intermediate', 'malignant'], gte: 0.5 }, ctx)).toBe(true);
    expect(holds({ groupProbability: ['benign', 'intermediate', 'malignant'], lt: 0.5 }, ctx)).toBe(false);
    expect(holds({ groupProbability: ['benign', 'malignant'], lt: 0.5 }, ctx)).toBe(false);
    expect(holds({ groupProbability: ['benign'], lt: 0.5 }, ctx)).toBe(true);
  });
  it('counts a group named twice once', () => {
    expect(holds({ groupProbability: ['malignant', 'malignant'], lt: 0.3 }, ctx)).toBe(true);
  });
  it('is false before the assessment has group probabilities', () => {
    expect(holds({ groupProbability: ['benign'], gte: 0 }, { case: { formatVersion: 1 } })).toBe(false);
  });
  it('the schema accepts a group or a non-empty list of groups, nothing else', () => {
    expect(condition.safeParse({ groupProbability: ['benign', 'malignant'], gte: 0.5 }).success).toBe(true);
    expect(condition.safeParse({ groupProbability: 'benign', gte: 0.5 }).success).toBe(true);
    expect(condition.safeParse({ groupProbability: [], gte: 0.5 }).success).toBe(false);
    expect(condition.safeParse({ groupProbability: ['tumour'], gte: 0.5 }).success).toBe(false);
  });
});
