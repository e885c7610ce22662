import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { DeploymentState, Deployments } from './deployments.ts';

interface Pending {
  id: number;
  state: DeploymentState;
  description: string;
  environmentUrl: string | undefined;
}

/**
 * Deployment statuses posted behind the traffic, never in front of it: `post` returns at once,
 * one worker sends them in order, each try with its own deadline and a short retry, and a
 * progress status still waiting is replaced by a newer one for the same deployment. A status
 * that could not be written is a warning, and `failures` lists it for the run's last word.
 */
export class StatusRecorder {
  readonly failures: string[] = [];
  private readonly queue: Pending[] = [];
  private worker: Promise<void> | undefined;
  private readonly deployments: Deployments;
  private readonly logger: Logger;
  private readonly callMs: number;
  private readonly attempts: number;

  constructor(deployments: Deployments, logger: Logger, options: { callMs?: number; attempts?: number } = {}) {
    this.deployments = deployments;
    this.logger = logger;
    this.callMs = options.callMs ?? 10_000;
    this.attempts = options.attempts ?? 2;
  }

  post(id: number, state: DeploymentState, description: string, environmentUrl?: string): void {
    const last = this.queue.at(-1);
    if (last && last.id === id && last.state === 'in_progress' && state === 'in_progress') this.queue.pop();
    this.queue.push({ id, state, description, environmentUrl });
    this.worker ??= this.drain().finally(() => (this.worker = undefined));
  }

  /** Waits for every queued status to be sent or given up, at most `timeoutMs`; true when all went out. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = sleep(timeoutMs, false, { ref: false });
    while (this.worker) {
      const done = await Promise.race([this.worker.then(() => true), deadline]);
      if (!done) {
        for (const left of this.queue.splice(0)) this.failures.push(`${left.state} on deployment ${left.id} (no time left)`);
        return false;
      }
    }
    return this.failures.length === 0;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.deployments.setStatus(next.id, next.state, next.description, next.environmentUrl, {
            signal: AbortSignal.timeout(this.callMs),
          });
          break;
        } catch (error) {
          // GitHub's own trouble (5xx, no answer) is worth a second try; a refusal or a rate limit is not.
          const status = (error as { status?: number }).status;
          if (attempt < this.attempts && (status === undefined || status >= 500)) {
            await sleep(500 * attempt);
            continue;
          }
          this.failures.push(`${next.state} on deployment ${next.id}`);
          this.logger.warning(`Could not record ${next.state} on deployment ${next.id}: ${errorMessage(error)}`);
          break;
        }
      }
    }
  }
}
