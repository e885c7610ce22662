import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../core/durations.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Gate, RuleReading } from '../gates/gate.ts';
import { restoreStable } from '../routers/restore-stable.ts';
import type { TrafficRouter } from '../routers/router.ts';
import type { Step } from './schedule.ts';

/** While a rule has no data, look again this often rather than a whole interval later: a fresh
 * weight's first evidence arrives with the next scrape, and a bad canary should not wait for us. */
export const DATA_POLL_MS = 500;

export type StepVerdict = 'passed' | 'failed' | 'cancelled' | 'router-failed' | 'promoted';

export interface StepRecord {
  weight: number;
  holdMs: number;
  /** Milliseconds since the ramp started. */
  startedAt: number;
  endedAt: number;
  verdict: StepVerdict;
  readings: RuleReading[];
}

export interface CanaryReport {
  result: 'promoted' | 'reverted';
  reason: string;
  finalWeight: number;
  /** Whether all traffic is on stable after a revert (false only if the router refused even that). */
  stableRestored: boolean;
  startedAt: string;
  durationMs: number;
  plannedHoldMs: number;
  steps: StepRecord[];
}

export interface RampOptions {
  steps: readonly Step[];
  intervalMs: number;
  router: TrafficRouter;
  gate: Gate;
  logger: Logger;
  /** Aborted when the run is cancelled: the ramp stops and puts all traffic back on stable. */
  signal: AbortSignal;
  /** Told of every weight that took effect, so a post step knows what to undo. */
  onWeight?: (weight: number) => void;
}

const mark = { pass: '✓', breach: '!', fail: '✗', 'no-data': '…', delayed: '·' } as const;

/**
 * Ramps traffic to the canary step by step. Each weight is held for its time while the gate is
 * evaluated every interval (sooner while a rule has no data yet); the first failing verdict,
 * a router error or a cancellation puts all traffic back on stable at once.
 */
export async function runRamp(options: RampOptions): Promise<CanaryReport> {
  const { steps, intervalMs, router, gate, logger, signal } = options;
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const records: StepRecord[] = [];
  let weight = 0;

  const finish = (result: CanaryReport['result'], reason: string, stableRestored: boolean): CanaryReport => ({
    result,
    reason,
    finalWeight: weight,
    stableRestored,
    startedAt,
    durationMs: Math.round(now()),
    plannedHoldMs: steps.reduce((sum, s) => sum + s.holdMs, 0),
    steps: records,
  });

  const revert = async (reason: string): Promise<CanaryReport> => {
    logger.warning(`Reverting: ${reason}`);
    try {
      await restoreStable(router, logger);
    } catch (error) {
      return finish('reverted', `${reason}; and putting traffic back on stable failed: ${errorMessage(error)}`, false);
    }
    weight = 0;
    options.onWeight?.(0);
    logger.info(`All traffic is back on stable (${router.description}).`);
    return finish('reverted', reason, true);
  };

  for (const [index, step] of steps.entries()) {
    const record: StepRecord = {
      weight: step.weight,
      holdMs: step.holdMs,
      startedAt: Math.round(now()),
      endedAt: 0,
      verdict: 'passed',
      readings: [],
    };
    records.push(record);
    const close = (verdict: StepVerdict) => {
      record.verdict = verdict;
      record.endedAt = Math.round(now());
    };
    const title = `Step ${index + 1}/${steps.length}: canary ${step.weight}%${step.holdMs ? ` for ${formatDuration(step.holdMs)}` : ''}`;
    const outcome = await logger.group(title, async (): Promise<CanaryReport | undefined> => {
      if (signal.aborted) {
        close('cancelled');
        return revert('the run was cancelled');
      }
      try {
        await router.setWeight(step.weight);
      } catch (error) {
        close('router-failed');
        return revert(`the router did not take ${step.weight}%: ${errorMessage(error)}`);
      }
      weight = step.weight;
      options.onWeight?.(step.weight);
      const weightSetAt = now();
      logger.info(`Canary at ${step.weight}% via ${router.description}.`);
      if (step.holdMs === 0) {
        close('promoted');
        return finish('promoted', `every step passed its gate; canary at ${step.weight}%`, false);
      }
      const holdEnd = weightSetAt + step.holdMs;
      for (;;) {
        const endOfHold = now() >= holdEnd;
        const verdict = await gate.evaluate({ now: now(), weight: step.weight, weightSetAt, endOfHold, signal });
        if (signal.aborted) {
          close('cancelled');
          return revert('the run was cancelled');
        }
        record.readings.push(...verdict.readings);
        for (const r of verdict.readings) logger.info(`  +${(r.at / 1000).toFixed(1)}s ${mark[r.status]} ${r.rule}: ${r.detail}`);
        if (verdict.status === 'fail') {
          close('failed');
          return revert(`gate failed at ${step.weight}%: ${verdict.reason}`);
        }
        if (endOfHold) break;
        const next = Math.min(holdEnd, now() + (verdict.status === 'wait' ? Math.min(DATA_POLL_MS, intervalMs) : intervalMs));
        try {
          await sleep(Math.max(0, next - now()), undefined, { signal });
        } catch {
          close('cancelled');
          return revert('the run was cancelled');
        }
      }
      close('passed');
      return undefined;
    });
    if (outcome) return outcome;
  }
  throw new Error('the schedule did not end at 100%');
}
