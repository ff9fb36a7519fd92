/**
 * Test support for the image readers.
 */
import { expect } from 'vitest';
import { ImagingError, type ImagingErrorCode } from '../imaging/errors.js';

/** Runs fn, expects an ImagingError with that code whose message names the file. */
export async function expectImagingError(fn: () => Promise<unknown>, code: ImagingErrorCode, file: string, message?: RegExp): Promise<ImagingError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'an error is thrown').toBeInstanceOf(ImagingError);
  const err = caught as ImagingError;
  expect(err.code, err.message).toBe(code);
  expect(err.file).toBe(file);
  expect(err.message).toContain(file);
  if (message) expect(err.message).toMatch(message);
  return err;
}
