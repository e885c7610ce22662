import { ConfigurationError } from '../core/errors.ts';
import type { RampSides, Side } from '../slots/sides.ts';

/**
 * Gate queries name "the canary" and "stable" through placeholders the canary fills in at the
 * start of each run from the router, so the same gate text stays true release after release while
 * the canary moves from one slot to the other:
 *
 * - `{canary-instances}`, `{stable-instances}`: a regular expression matching the side's servers,
 *   for `instance=~"{canary-instances}"` (Prometheus labels each scraped server `instance="host:port"`);
 * - `{canary-slot}`, `{stable-slot}`: `blue` or `green`, for a `slot` label set in the scrape config.
 */
const PLACEHOLDER = /\{(canary|stable)-([a-z]+)\}/g;
const KINDS = ['instances', 'slot'] as const;

/**
 * A regex alternative of the addresses with no backslash in it, so it means the same inside a
 * PromQL "double-quoted" or `backtick` string: `.` as `[.]`, and an IPv6 address's brackets as
 * `.` (nothing else can stand there).
 */
export function instancesPattern(addresses: readonly string[]): string {
  return addresses.map((a) => a.replace(/[.[\]]/g, (c) => (c === '.' ? '[.]' : '.'))).join('|');
}

/** Throws ConfigurationError for a placeholder that is not one of the four, or that `slots` cannot fill. */
export function checkPlaceholders(query: string, where: string, input: string, slots: boolean): void {
  for (const [text, , kind] of query.matchAll(PLACEHOLDER)) {
    if (!(KINDS as readonly string[]).includes(kind!)) {
      throw new ConfigurationError(
        input,
        `${where}: ${text} is not a placeholder (use {canary-instances}, {stable-instances}, {canary-slot} or {stable-slot})`,
        'instance=~"{canary-instances}"',
      );
    }
    if (kind === 'slot' && !slots) {
      throw new ConfigurationError(input, `${where}: ${text} needs a router with blue and green slots`, 'instance=~"{canary-instances}"');
    }
  }
}

function fill(side: Side, kind: string, text: string): string {
  if (kind === 'instances') return instancesPattern(side.addresses);
  if (side.slot === undefined) throw new Error(`${text} needs a router with blue and green slots`);
  return side.slot;
}

/** The query with every placeholder filled in for this run's sides. */
export function expandPlaceholders(query: string, sides: RampSides): string {
  return query.replace(PLACEHOLDER, (text, who: 'canary' | 'stable', kind: string) => fill(sides[who], kind, text));
}
