#!/usr/bin/env node
// The command line as bundled by the build (scripts/build-cli.mjs), else as tsc wrote it.
try {
  await import('../dist/cli-bundle/main.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('cli-bundle')) throw e;
  await import('../dist/cli/main.js');
}
