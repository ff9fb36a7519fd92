/**
 * `calcdx serve`: the HTTP API and the browser app on one port (loopback by default).
 */
import { Option, type Command } from 'commander';
import { t, type Lang } from '../i18n/index.js';
import { CalcdxError } from '../io/errors.js';
import { buildServer, DEFAULTS } from '../server/app.js';

export interface ServeOptions {
  port: string;
  host: string;
  maxCtJobs?: string;
  uploadLimitMb?: string;
  quiet?: boolean;
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const x = Number(raw);
  if (!Number.isInteger(x) || x < min || x > max) throw new CalcdxError('usage', { detail: `--${name}: found "${raw}"; allowed: a whole number from ${min} to ${max}` });
  return x;
}

/** Starts the server; resolves with its URL and a function that stops it. */
export async function serve(o: ServeOptions, lang: Lang): Promise<{ url: string; close: () => Promise<void> }> {
  const port = wholeNumber('port', o.port, 0, 65535);
  const app = await buildServer({
    logger: o.quiet ? false : true,
    ...(o.maxCtJobs !== undefined ? { maxCtJobs: wholeNumber('max-ct-jobs', o.maxCtJobs, 1, 64) } : {}),
    ...(o.uploadLimitMb !== undefined ? { uploadLimit: wholeNumber('upload-limit-mb', o.uploadLimitMb, 1, 64 * 1024) * 1024 * 1024 } : {}),
  });
  await app.listen({ port, host: o.host });
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${host}:${actualPort}`;
  process.stdout.write(`${t(lang, 'server.listening', { url })}\n`);
  return { url, close: () => app.close() };
}

export function registerServe(program: Command, envLang: () => Lang): void {
  program.command('serve')
    .description('run the HTTP API and the browser app (binds 127.0.0.1 unless --host says otherwise)')
    .option('--port <port>', 'TCP port (0 = any free port)', '8080')
    .option('--host <host>', 'address to bind; 0.0.0.0 exposes calcdx to the network, which has no authentication', '127.0.0.1')
    .option('--max-ct-jobs <n>', `CT uploads measured at once (default ${DEFAULTS.maxCtJobs})`)
    .option('--upload-limit-mb <n>', `largest CT upload, MiB (default ${DEFAULTS.uploadLimit / 1024 / 1024})`)
    .option('--quiet', 'no request log')
    .addOption(new Option('--lang <lang>', 'language of the start message').choices(['zh', 'en']))
    .action(async (o: ServeOptions & { lang?: Lang }) => {
      const { close } = await serve(o, o.lang ?? envLang());
      await new Promise<void>((resolve) => {
        const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); void close().then(resolve, resolve); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
