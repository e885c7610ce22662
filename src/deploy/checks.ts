import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { errorMessage } from '../core/errors.ts';
import { formatBytes, send } from '../core/http.ts';
import { logText } from '../core/untrusted.ts';
import { formatDuration } from '../core/durations.ts';
import { duration } from '../core/validate.ts';
import { substitute, type Placement } from './placement.ts';

/** An http(s) URL once `{artifact}`, `{slot}` and `{address}` are filled in with plausible values. */
const templatedUrl = z.string().refine((value) => {
  try {
    const url = new URL(
      substitute(value, { artifact: 'a', version: 'v', environment: 'e', slot: 'blue', address: '127.0.0.1:8080' }, true),
    );
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'url must be an http(s) URL; {artifact}, {slot} and {address} may appear in it, e.g. http://{address}/healthz');

const httpStatus = z.number().int().min(100).max(599);

export const healthSchema = z.strictObject({
  url: templatedUrl,
  status: httpStatus.default(200),
  timeout: duration('2m').default(120_000),
  interval: duration('2s').default(2000),
});

export const smokeSchema = z.array(
  z.strictObject({
    name: z.string().min(1).optional(),
    url: templatedUrl,
    status: httpStatus.default(200),
    'body-contains': z.string().min(1).optional(),
    'body-regex': z
      .string()
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'body-regex is not a valid regular expression')
      .optional(),
    'max-latency': duration('500ms').optional(),
    timeout: duration('10s').default(10_000),
  }),
  {
    error: (issue) => (issue.code === 'invalid_type' && !issue.path?.length ? 'must be a YAML list of checks, each with a url' : undefined),
  },
);

export type HealthConfig = z.output<typeof healthSchema>;
export type SmokeCheck = z.output<typeof smokeSchema>[number];

export const HEALTH_EXAMPLE = 'health: "{url: http://{address}/healthz, status: 200, timeout: 2m, interval: 2s}"';
export const SMOKE_EXAMPLE = 'smoke: "[{url: http://{address}/version, body-contains: \'{artifact}\', max-latency: 500ms}]"';

interface Answer {
  status: number;
  latencyMs: number;
  /** Whether the body held `contains`, when asked. */
  contains?: boolean;
  /** The body's first REGEX_LIMIT bytes, when a regex needs it, and whether there was more. */
  text?: { value: string; cut: boolean };
}

/** body-regex needs the body in memory: at most this much of it. body-contains streams any size. */
export const REGEX_LIMIT = 1024 * 1024;

/**
 * One GET, redirects not followed (a redirect is an answer like any other). The body is read only
 * as far as the checks need: `contains` is looked for as the bytes stream past (a window of its
 * own length carries over between chunks, so any size of body takes constant memory), and at most
 * REGEX_LIMIT bytes are kept for a regex.
 */
async function get(
  url: string,
  timeoutMs: number,
  cancel: AbortSignal | undefined,
  want: { contains?: string; regex?: boolean } = {},
): Promise<Answer> {
  const started = performance.now();
  const response = await send(url, { method: 'GET', timeoutMs, ...(cancel ? { signal: cancel } : {}) });
  const needle = want.contains === undefined ? undefined : Buffer.from(want.contains, 'utf8');
  if (!needle && !want.regex) {
    await response.body.dump();
    return { status: response.statusCode, latencyMs: performance.now() - started };
  }
  let found = false;
  let carry = Buffer.alloc(0);
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let cut = false;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    if (needle && !found) {
      // Only the seam between chunks is copied: the needle may straddle it.
      const seam = Buffer.concat([carry, chunk.subarray(0, needle.length - 1)]);
      found = seam.includes(needle) || chunk.includes(needle);
      const keep = needle.length - 1;
      const tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([carry, chunk]);
      carry = Buffer.from(tail.subarray(tail.length - keep));
    }
    if (want.regex && !cut) {
      const room = REGEX_LIMIT - keptBytes;
      if (chunk.length > room) cut = true;
      kept.push(chunk.subarray(0, room));
      keptBytes += Math.min(room, chunk.length);
    }
    // Leaving the loop closes the stream: the rest of a huge body is never received.
    if ((found || !needle) && (cut || !want.regex)) break;
  }
  return {
    status: response.statusCode,
    latencyMs: performance.now() - started,
    ...(needle ? { contains: found } : {}),
    ...(want.regex ? { text: { value: Buffer.concat(kept).toString('utf8'), cut } } : {}),
  };
}

/**
 * Polls the health URL until it answers the expected status. Throws after the timeout with the
 * last answer, so the log says what the new version was doing instead of just "unhealthy".
 */
export async function waitHealthy(health: HealthConfig, placement: Placement, signal?: AbortSignal): Promise<string> {
  const url = substitute(health.url, placement, true);
  const started = performance.now();
  let last: string;
  for (let attempt = 1; ; attempt++) {
    try {
      // No single try may run past the health timeout.
      const left = Math.max(1000, health.timeout - (performance.now() - started));
      const answer = await get(url, Math.min(health.interval * 5, 10_000, left), signal);
      if (answer.status === health.status)
        return `${url} answered ${answer.status} after ${formatDuration(performance.now() - started)} (${attempt} ${attempt === 1 ? 'try' : 'tries'})`;
      last = `answered ${answer.status}`;
    } catch (error) {
      last = logText(errorMessage(error), 300);
    }
    // A cancelled run stops polling at once and says why, rather than "not healthy".
    signal?.throwIfAborted();
    if (performance.now() - started + health.interval > health.timeout) {
      throw new Error(`${url} was not healthy within ${formatDuration(health.timeout)} (expected ${health.status}, last ${last})`);
    }
    try {
      await sleep(health.interval, undefined, { signal });
    } catch {
      signal?.throwIfAborted();
    }
  }
}

export interface SmokeResult {
  name: string;
  url: string;
  passed: boolean;
  detail: string;
}

/** Runs every smoke check once (all of them, so the summary shows each); none is retried. */
export async function runSmokeChecks(checks: readonly SmokeCheck[], placement: Placement, signal?: AbortSignal): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const check of checks) {
    signal?.throwIfAborted();
    const url = substitute(check.url, placement, true);
    const name = check.name ?? url;
    const problems: string[] = [];
    let detail: string;
    try {
      const contains = check['body-contains'] && substitute(check['body-contains'], placement);
      const regex = check['body-regex'];
      const answer = await get(url, check.timeout, signal, { ...(contains ? { contains } : {}), regex: regex !== undefined });
      if (answer.status !== check.status) problems.push(`status ${answer.status}, expected ${check.status}`);
      if (contains && !answer.contains) problems.push(`body does not contain "${contains}"`);
      if (regex && answer.text && !new RegExp(regex).test(answer.text.value)) {
        problems.push(
          `body does not match /${regex}/${answer.text.cut ? ` in its first ${formatBytes(REGEX_LIMIT)} (body-regex reads no more)` : ''}`,
        );
      }
      if (check['max-latency'] !== undefined && answer.latencyMs > check['max-latency']) {
        problems.push(`took ${formatDuration(answer.latencyMs)}, over ${formatDuration(check['max-latency'])}`);
      }
      detail = problems.length ? problems.join('; ') : `${answer.status} in ${formatDuration(answer.latencyMs)}`;
    } catch (error) {
      signal?.throwIfAborted();
      problems.push(logText(errorMessage(error), 300));
      detail = problems[0]!;
    }
    results.push({ name, url, passed: problems.length === 0, detail });
  }
  return results;
}
