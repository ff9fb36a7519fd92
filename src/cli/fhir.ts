/**
 * `calcdx fhir import <bundle.json>`: a FHIR R4 Bundle (or CDS Hooks prefetch object) → a case file.
 * Only the command's definition lives here; its work (src/cli/fhir-run.ts) is imported when it runs,
 * so other commands do not load the FHIR code.
 */
import { Option, type Command } from 'commander';
import type { Lang } from '../i18n/index.js';

export interface FhirImportOptions { out?: string; referenceDate?: string; strict?: boolean; json?: boolean; lang?: Lang }

export function registerFhir(program: Command, envLang: () => Lang): void {
  const fhir = program.command('fhir').description('FHIR R4 interoperability');
  fhir.command('import')
    .description('read a FHIR R4 Bundle (or a CDS Hooks prefetch object) of one patient and write the case file; what could not be mapped is listed on standard error')
    .argument('<bundle>', 'FHIR JSON file, or - for standard input')
    .option('--out <file>', 'write the case (YAML) to a file instead of standard output')
    .option('--reference-date <date>', 'compute the age from the birth date at this date (YYYY-MM-DD; default today)')
    .option('--strict', 'fail (exit 1) when anything could not be mapped')
    .option('--json', 'print { case, mapped, unmapped } as JSON instead of the case as YAML')
    .addOption(new Option('--lang <lang>', 'language of the messages').choices(['zh', 'en']))
    .action(async (file: string, o: FhirImportOptions) => {
      const { fhirImportCommand } = await import('./fhir-run.js');
      fhirImportCommand(file, o, o.lang ?? envLang());
    });
}
