/**
 * The registry's typed errors. The HTTP layer maps them: not_found -> 404, conflict -> 409,
 * invalid -> 400 (problem+json with the field), exists -> 409, schema_* -> 500 at start-up.
 */
export type RegistryErrorCode =
  /** no record with this id */
  | 'not_found'
  /** an update carried a stale row version: someone else changed the record first */
  | 'conflict'
  /** a unique value (medical record number, username) is taken */
  | 'exists'
  /** input that does not fit the schema or the records it refers to */
  | 'invalid'
  /** the database was written by a newer calcdx (its schema version is higher than this one knows) */
  | 'schema_too_new'
  /** the database location (--db / CALCDX_DB) cannot be used */
  | 'bad_location';

export interface RegistryIssue {
  /** dotted path of the field */
  field: string;
  /** what was found (never clinical content of another record) */
  found?: string;
  /** what is allowed */
  allowed: string;
}

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly details: {
      recordType?: string;
      id?: string;
      /** conflict: the version the caller had and the current one */
      expectedVersion?: number;
      currentVersion?: number;
      issues?: RegistryIssue[];
    } = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export const notFound = (recordType: string, id: string): RegistryError =>
  new RegistryError('not_found', `${recordType} ${id} not found`, { recordType, id });

export const conflict = (recordType: string, id: string, expectedVersion: number, currentVersion: number): RegistryError =>
  new RegistryError('conflict', `${recordType} ${id} was changed by someone else: you had version ${expectedVersion}, it is now at version ${currentVersion}; reload it and apply your change again`, { recordType, id, expectedVersion, currentVersion });

export const invalid = (issues: RegistryIssue[]): RegistryError =>
  new RegistryError('invalid', issues.map((i) => `${i.field}: ${i.found !== undefined ? `found ${i.found}; ` : ''}allowed: ${i.allowed}`).join('; '), { issues });

export const isRegistryError = (e: unknown, code?: RegistryErrorCode): e is RegistryError =>
  e instanceof RegistryError && (code === undefined || e.code === code);
