/** Calendar arithmetic on ISO dates (YYYY-MM-DD), in UTC so that it does not depend on the machine. */

/** The ISO date `days` days after `iso`. */
export function addDays(iso: string, days: number): string {
  const t = Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

export const addWeeks = (iso: string, weeks: number): string => addDays(iso, weeks * 7);

/** An ISO calendar date (YYYY-MM-DD) that exists. */
export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
