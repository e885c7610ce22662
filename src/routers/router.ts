import type { RouterRecord } from '../slots/record.ts';

/**
 * Moves live traffic between the stable version and the canary. Every router can put all traffic
 * back on stable (weight 0), which is what every failure path relies on.
 */
export interface TrafficRouter {
  /** Short human description for logs and the summary, e.g. `nginx upstream app in /etc/nginx/app.conf`. */
  readonly description: string;
  /** Checks that the router can be driven (file readable, socket answers) without changing anything. */
  check(): Promise<void>;
  /**
   * Sends `weight` percent of requests to the canary and the rest to stable; throws if it did not
   * take, and throws RouterChangedError (changing nothing) when the router no longer holds what
   * this run last set.
   */
  setWeight(weight: number): Promise<void>;
  /** The canary's share of traffic now, where the router can tell (a command router cannot). */
  currentWeight?(): Promise<number>;
  /** Throws RouterChangedError when the router no longer holds what this run last set. */
  verifyUnchanged?(): Promise<void>;
}

/**
 * The router no longer holds what this run last set: someone else (a revert, a person, another
 * run) changed it. The run must not overwrite that: a canary ends reverted, a deploy switches nothing.
 */
export class RouterChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouterChangedError';
  }
}

/** The message for a router found holding `found` instead of what this run last set. */
export const changedMessage = (what: string, found: string) =>
  `${what} was changed by someone else (it now holds ${found}); a revert or another run?`;

/** One server Shipgate owns, as the router holds it now. */
export interface ServerState {
  /** How the router names it: `host:port` in nginx, the server's name in HAProxy. */
  id: string;
  /** `host:port` for health checks and the gate's `{canary-instances}`. */
  address: string;
  /** What it carries: 0 when down or drained. */
  weight: number;
}

/** What a router holds now, for the servers Shipgate owns. */
export interface RouterSnapshot {
  servers: ReadonlyMap<string, ServerState>;
  /** The router record, when there is a valid one. */
  record?: RouterRecord;
  /** The record's text as the router holds it, valid or not. */
  recordText?: string;
  /** Why a record that is there was not used (untrusted text, shown through logText). */
  recordProblem?: string;
  /** The owned weights and the record, to tell whether anyone changed them. */
  fingerprint: string;
}

/** A router whose servers carry weights: nginx (upstream file) and HAProxy (runtime API). */
export interface WeightedRouter {
  readonly description: string;
  /** The largest weight one server may carry. */
  readonly maxWeight: number;
  /** Whether the router can hold a record beside the weights. */
  readonly keepsRecord: boolean;
  /** Identifies the router on this host, for the locks (a symlink and its target are one). */
  lockKey(): Promise<string>;
  /** Checks the router can be driven, without changing it; a ConfigurationError names the input. */
  check(input: string, example: string): Promise<void>;
  read(): Promise<RouterSnapshot>;
  /** Sets every owned server's weight (and the record, where kept); throws if it did not take. */
  write(weights: ReadonlyMap<string, number>, record: RouterRecord | undefined): Promise<void>;
}

/** The fingerprint of owned weights and a record text, the same for what was read and what was written. */
export function fingerprint(weights: ReadonlyMap<string, number>, recordText: string | undefined): string {
  return JSON.stringify([[...weights].sort(([a], [b]) => a.localeCompare(b)), recordText ?? null]);
}
