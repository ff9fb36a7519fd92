/**
 * An API error as the page shows it: the problem's detail (in the page language, as the server
 * rendered it) and, for bad input, each field with what was found and what is allowed. Fields the
 * form knows are also marked at the field (`fieldError`).
 */
import { t } from '../../../src/i18n/index.js';
import { ApiError } from '../api/registry.js';
import { useLang } from '../app/lang.js';

export function ProblemView({ error }: { error: unknown }) {
  const { lang } = useLang();
  if (!error) return null;
  if (!(error instanceof ApiError)) return <div class="alert alert-warning" role="alert">{String((error as Error)?.message ?? error)}</div>;
  const p = error.problem;
  return (
    <div class="alert alert-warning problem" role="alert" data-status={p.status} data-code={p.code}>
      <p>{p.status === 0 ? t(lang, 'web.reg.networkError') : p.detail}</p>
      {p.errors && p.errors.length > 0 && (
        <ul class="problem-fields">
          {p.errors.map((e) => <li data-path={e.path}><code>{e.path}</code>{t(lang, 'web.reg.colon')}{e.message}</li>)}
        </ul>
      )}
    </div>
  );
}

/** the message of a bad-input problem for one field (body.<name>), if any */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.problem.errors?.find((e) => e.path === `body.${field}` || e.path.startsWith(`body.${field}.`))?.message;
}
