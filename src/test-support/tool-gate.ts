/**
 * Test support: the rule for tests that need tools outside npm (Orthanc, Chromium, PostgreSQL,
 * dcmtk …). On a developer machine a test file whose tools are missing is skipped, with a message
 * on stderr naming them; in CI (CI=true) nothing is skipped and the file fails instead, naming them
 * (.ci/run installs them).
 */

export const inCi = process.env.CI === 'true' || process.env.CI === '1';

export interface ToolGate {
  /** what is missing (empty when all is there) */
  missing: string[];
  /** for describe.skipIf: something is missing and this is not CI */
  skip: boolean;
  /** first thing in beforeAll: throws in CI when something is missing */
  assert(): void;
}

/** `file`: the test file, as the messages name it; `missing`: what it needs and is not there. */
export function toolGate(file: string, missing: string[]): ToolGate {
  const skip = missing.length > 0 && !inCi;
  if (skip) process.stderr.write(`${file} SKIPPED: needs ${missing.join('; ')}\n`);
  return {
    missing,
    skip,
    assert: () => {
      if (missing.length) throw new Error(`CI=true and ${file} cannot run: missing ${missing.join('; ')} (.ci/run installs them)`);
    },
  };
}
