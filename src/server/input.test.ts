import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpProblem } from './problem.js';
import { issueErrorsOf, parseInput } from './input.js';

const schema = z.strictObject({ name: z.string().min(2), age: z.number().int().min(0), password: z.string().min(12) });

describe('parseInput', () => {
  it('returns the parsed value when it fits', () => {
    expect(parseInput(schema, { name: 'Li', age: 3, password: 'long enough pw' }, 'body')).toEqual({ name: 'Li', age: 3, password: 'long enough pw' });
  });

  it('a 400 invalid_input problem naming every field, what was found and what is allowed, in zh and en; never echoing a password', () => {
    let e: unknown;
    try { parseInput(schema, { name: 'L', age: -1, password: 'short', extra: 1 }, 'body'); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(HttpProblem);
    const p = e as HttpProblem;
    expect(p.status).toBe(400);
    expect(p.code).toBe('invalid_input');
    const en = p.extra.errors!('en');
    expect(en.map((x) => x.path).sort()).toEqual(['body.age', 'body.extra', 'body.name', 'body.password']);
    expect(en.find((x) => x.path === 'body.age')).toMatchObject({ found: '-1' });
    expect(en.find((x) => x.path === 'body.password')!.found).toBeUndefined();
    expect(JSON.stringify(en)).not.toContain('short');
    const zh = issueErrorsOf(schema, { name: 'L', age: 1, password: 'long enough pw' }, 'body', 'zh');
    expect(zh[0]!.message).toMatch(/body\.name：实际为 "L"；允许：/);
    expect(p.detail('zh')).toMatch(/个字段无效/);
  });
});
