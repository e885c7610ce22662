/**
 * Moves live traffic between the stable version and the canary. Every router can put all traffic
 * back on stable (weight 0), which is what every failure path relies on.
 */
export interface TrafficRouter {
  /** Short human description for logs and the summary, e.g. `nginx upstream app in /etc/nginx/app.conf`. */
  readonly description: string;
  /** Checks that the router can be driven (file readable, socket answers) without changing anything. */
  check(): Promise<void>;
  /** Sends `weight` percent of requests to the canary and the rest to stable; throws if it did not take. */
  setWeight(weight: number): Promise<void>;
  /** The canary's share of traffic now, where the router can tell (a command router cannot). */
  currentWeight?(): Promise<number>;
  /** Throws RouterChangedError when the router no longer holds what this run last set. */
  verifyUnchanged?(): Promise<void>;
}

/**
 * The router no longer holds what this run last set: someone else (a revert, a person) changed
 * it. A ramp that meets this ends reverted and leaves the router as it was found.
 */
export class RouterChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouterChangedError';
  }
}
