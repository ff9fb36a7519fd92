/**
 * Hostile case texts, generated (never stored as large fixtures): the inputs of issue 13's
 * D4-D6 for the regression tests (CLI, HTTP, unit) and the fuzz harness.
 */

/** An alias whose anchor is not there. */
export const unresolvedAlias = (): string => 'formatVersion: 1\npatient: *nowhere\n';

/** "Billion laughs": each level is 9 aliases of the one before (9^levels strings when expanded). */
export function billionLaughs(levels = 10): string {
  let s = 'formatVersion: 1\na0: &a0 [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < levels; i++) s += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
  return s;
}

/** JSON arrays nested `depth` levels. */
export const deepJsonArrays = (depth = 10_000): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** JSON objects nested `depth` levels. */
export const deepJsonObjects = (depth = 10_000): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** YAML flow sequences nested `depth` levels. */
export const deepYamlFlow = (depth = 10_000): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** YAML block mappings nested `depth` levels by indentation. */
export const deepYamlBlock = (depth = 200): string =>
  `${Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`;

/** A mapping with `count` top-level keys (the outside probe's D6 case: 60,000 keys, about 818 kB). */
export const manyKeysYaml = (count = 60_000): string =>
  `formatVersion: 1\n${Array.from({ length: count }, (_, i) => `k${i}: ${i}\n`).join('')}`;

/** A case with `count` unknown fields: `count` validation issues. */
export const manyIssuesYaml = (count = 900): string =>
  `formatVersion: 1\n${Array.from({ length: count }, (_, i) => `unknown${i}: 1\n`).join('')}`;

/** Every hostile case above, by name (what the outside probe found: D4 aliases, D5 depth, D6 keys). */
export function hostileCases(): Array<{ name: string; text: string }> {
  return [
    { name: 'unresolved-alias.yaml', text: unresolvedAlias() },
    { name: 'billion-laughs.yaml', text: billionLaughs() },
    { name: 'deep-arrays.json', text: deepJsonArrays() },
    { name: 'deep-objects.json', text: deepJsonObjects() },
    { name: 'deep-flow.yaml', text: deepYamlFlow() },
    { name: 'deep-block.yaml', text: deepYamlBlock() },
    { name: 'many-keys.yaml', text: manyKeysYaml() },
  ];
}
