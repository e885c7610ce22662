import { z } from 'zod';
import { durationMs } from './durations.ts';

/**
 * Patterns for values that end up inside generated config. They are strict on purpose: a value
 * that passes cannot close a block, start a directive or carry a comment.
 */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

export const name = (what: string) => z.string().regex(NAME, `${what} must be letters, digits, "_", "." or "-"`);

export const hostPort = z
  .string()
  .regex(HOST_PORT, 'must be host:port, e.g. 10.0.0.5:8080, with no spaces or ";"')
  .refine((v) => Number(HOST_PORT.exec(v)?.[1] ?? 0) <= 65535, 'port must be at most 65535');

export const httpUrl = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL, e.g. http://prometheus:9090');

/** A duration given as text (`30s`), checked where it is read so the message names the field. */
export const duration = (example: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = durationMs(String(value));
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a positive duration such as ${example}` });
      return z.NEVER;
    }
    return ms;
  });
