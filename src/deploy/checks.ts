import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { errorMessage } from '../core/errors.ts';
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
  body: string;
  latencyMs: number;
}

async function get(url: string, timeoutMs: number, cancel?: AbortSignal): Promise<Answer> {
  const started = performance.now();
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(cancel ? [cancel] : [])]);
  const response = await fetch(url, { signal, redirect: 'manual' });
  const body = await response.text();
  return { status: response.status, body, latencyMs: performance.now() - started };
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
      const answer = await get(url, Math.min(health.interval * 5, 10_000), signal);
      if (answer.status === health.status)
        return `${url} answered ${answer.status} after ${formatDuration(performance.now() - started)} (${attempt} ${attempt === 1 ? 'try' : 'tries'})`;
      last = `answered ${answer.status}`;
    } catch (error) {
      last = errorMessage(error);
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
      const answer = await get(url, check.timeout, signal);
      if (answer.status !== check.status) problems.push(`status ${answer.status}, expected ${check.status}`);
      const contains = check['body-contains'] && substitute(check['body-contains'], placement);
      if (contains && !answer.body.includes(contains)) problems.push(`body does not contain "${contains}"`);
      if (check['body-regex'] && !new RegExp(check['body-regex']).test(answer.body))
        problems.push(`body does not match /${check['body-regex']}/`);
      if (check['max-latency'] !== undefined && answer.latencyMs > check['max-latency']) {
        problems.push(`took ${formatDuration(answer.latencyMs)}, over ${formatDuration(check['max-latency'])}`);
      }
      detail = problems.length ? problems.join('; ') : `${answer.status} in ${formatDuration(answer.latencyMs)}`;
    } catch (error) {
      problems.push(errorMessage(error));
      detail = problems[0]!;
    }
    results.push({ name, url, passed: problems.length === 0, detail });
  }
  return results;
}
