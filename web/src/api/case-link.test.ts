import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assessmentLink, base64UrlJson } from './case-link.js';

// the reader of the assessment page (page.tsx caseFromHash) decodes this way
const decode = (s: string): unknown => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));

describe('links into the assessment page', () => {
  it('carries any case (any text, Chinese included) losslessly in #case=, in the URL-safe alphabet', () => {
    fc.assert(fc.property(fc.jsonValue(), (doc) => {
      const s = base64UrlJson(doc);
      expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decode(s)).toEqual(JSON.parse(JSON.stringify(doc)));
    }));
    expect(decode(base64UrlJson({ site: '左膝' }))).toEqual({ site: '左膝' });
  });

  it('names the lesion in the query and the case in the fragment', () => {
    expect(assessmentLink('L 1')).toBe('/?lesion=L%201');
    expect(assessmentLink('L1', { formatVersion: 1 })).toMatch(/^\/\?lesion=L1#case=[A-Za-z0-9_-]+$/);
  });
});
