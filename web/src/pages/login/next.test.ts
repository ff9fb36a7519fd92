import { describe, expect, it } from 'vitest';
import { safeNext } from './next.js';

describe('the page after login', () => {
  it('is a path of this app; another site, a scheme, the login page or nothing gives none', () => {
    expect(safeNext('/patients/p1?x=1')).toBe('/patients/p1?x=1');
    for (const bad of [undefined, '', '//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/login?next=/x', 'patients']) expect(safeNext(bad), String(bad)).toBeUndefined();
  });
});
