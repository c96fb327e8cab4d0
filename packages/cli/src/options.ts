/** Validation of flag values (zod), so a bad value names the flag and what is allowed. */
import { z } from 'zod';
import { BACKEND_NAMES, type BackendName } from '@sparse-ift/backend';
import { UsageError } from './errors.js';

const BACKENDS = ['auto', ...BACKEND_NAMES] as const;

export function parseBackend(value: string): BackendName | 'auto' {
  const parsed = z.enum(BACKENDS).safeParse(value);
  if (!parsed.success) throw new UsageError(`--backend '${value}' is not a backend; use one of: ${BACKENDS.join(', ')}`);
  return parsed.data;
}

export function parseThreads(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = z.coerce.number().int().min(1).max(1024).safeParse(value.trim() === '' ? NaN : value);
  if (!parsed.success) throw new UsageError(`--threads '${value}' must be a whole number of threads, at least 1`);
  return parsed.data;
}

export const MAX_SEEDS = 20;

export function parseSeeds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = z.coerce.number().int().min(1).max(MAX_SEEDS).safeParse(value.trim() === '' ? NaN : value);
  if (!parsed.success) throw new UsageError(`--seeds '${value}' must be an integer from 1 to ${MAX_SEEDS}`);
  return parsed.data;
}
