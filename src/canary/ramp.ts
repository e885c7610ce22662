import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../core/durations.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { exact } from '../gates/format.ts';
import type { Gate, GateVerdict } from '../gates/gate.ts';
import { type RuleReading, ruleState } from '../gates/readings.ts';
import { restoreStable } from '../routers/restore-stable.ts';
import { RouterChangedError, type TrafficRouter } from '../routers/router.ts';
import type { Step } from './schedule.ts';

export type StepVerdict = 'passed' | 'failed' | 'undecided' | 'cancelled' | 'router-failed' | 'router-changed' | 'promoted';

export interface StepRecord {
  weight: number;
  holdMs: number;
  /** Milliseconds since the ramp started. */
  startedAt: number;
  endedAt: number;
  /** How long the hold was extended past its time while the gate was inconclusive. */
  extendedMs: number;
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
  /** Prometheus' scrape interval as read before the ramp, and how often comparisons looked. */
  scrapeIntervalMs?: number;
  lookEveryMs?: number;
  steps: StepRecord[];
}

/** What the ramp does when a hold ends with the gate inconclusive (not enough evidence, or a breach). */
export interface InconclusivePolicy {
  /** extend: keep the weight and keep looking, up to `maxExtensionMs`, then revert · revert: at once. */
  action: 'extend' | 'revert';
  /** Default: the step's own hold again, and at least DEFAULT_EXTENSION_MS. */
  maxExtensionMs?: number;
}

/**
 * How long an undecided hold is extended unless told otherwise. Measured in the lab (100 rps, 0.5%
 * failures on both sides, 30 s holds): a healthy canary needed a median of about 3 minutes of
 * evidence past its holds to be shown not worse than 2×, all 20 within 10; the hold again (30 s)
 * would have reverted 18 of 20 as undecided.
 */
export const DEFAULT_EXTENSION_MS = 10 * 60_000;

export interface ProgressEvent {
  /** step: a new weight took effect · look: the gate was evaluated. */
  kind: 'step' | 'look';
  /** 1-based index of the step and how many there are. */
  step: number;
  steps: number;
  weight: number;
  /** Milliseconds since the ramp started. */
  at: number;
  /** Each rule's state now: worse / not worse / inconclusive for comparisons, pass / breach / fail / no-data / delayed otherwise. */
  rules: Array<{ rule: string; state: ReturnType<typeof ruleState> }>;
  /** Past the hold, waiting for evidence. */
  extending: boolean;
}

/** Time for the ramp: the system's, or a simulated one (the decision bench) that needs no sleeping. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

export interface RampOptions {
  steps: readonly Step[];
  intervalMs: number;
  router: TrafficRouter;
  gate: Gate;
  logger: Logger;
  /** Aborted when the run is cancelled: the ramp stops and puts all traffic back on stable. */
  signal: AbortSignal;
  inconclusive?: InconclusivePolicy;
  clock?: Clock;
  /** Told of every weight that took effect, so a post step knows what to undo. */
  onWeight?: (weight: number) => void;
  /** Told at each step's start and after each look (GitHub deployment statuses are built from it). */
  onProgress?: (event: ProgressEvent) => void;
}

const mark = { pass: '✓', breach: '!', fail: '✗', inconclusive: '?', 'no-data': '…', delayed: '·' } as const;

/** Why a hold did not pass, with what the evidence would still need. */
function undecidedReason(verdict: GateVerdict): string {
  const open = verdict.latest.filter((r) => r.status === 'breach' || r.status === 'inconclusive');
  return open
    .map((r) => {
      const more = r.comparison?.moreRequests;
      return `${r.rule}: ${r.status === 'breach' ? 'out of bounds' : 'inconclusive'}${more !== undefined ? ` (about ${exact(more)} more canary requests would decide)` : ''}`;
    })
    .join('; ');
}

/**
 * Ramps traffic to the canary step by step. Each weight is held for its time while the gate looks
 * (thresholds every interval, comparisons with stable at every scrape, sooner while a rule has no
 * data); the first failing verdict, a router error, a router someone else changed or a cancellation
 * puts all traffic back on stable at once.
 *
 * A hold passes when no rule is out of bounds or worse, and, for the last hold before 100%, every
 * comparison shows the canary not worse: earlier steps may move on while evidence is still
 * gathering (the larger weight gathers it faster, and the worse test keeps watching), but nothing is
 * promoted on no evidence. A hold that cannot pass is extended or reverted by the policy.
 */
export async function runRamp(options: RampOptions): Promise<CanaryReport> {
  const { steps, router, gate, logger, signal } = options;
  const clock = options.clock ?? systemClock;
  const policy: InconclusivePolicy = options.inconclusive ?? { action: 'extend' };
  const startedAt = new Date().toISOString();
  const t0 = clock.now();
  const now = () => clock.now() - t0;
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
    scrapeIntervalMs: gate.scrapeIntervalMs,
    lookEveryMs: gate.lookEveryMs,
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

  /** Someone else changed the router (a revert?): stop, and touch it only if stable does not have all traffic. */
  const changedUnderUs = async (error: RouterChangedError): Promise<CanaryReport> => {
    const reason = `someone else changed the router (a revert?): ${error.message}`;
    const current = await router.currentWeight?.().catch(() => undefined);
    if (current === 0) {
      logger.warning(`Stopping: ${reason}. All traffic is already on stable; leaving the router as it is.`);
      weight = 0;
      options.onWeight?.(0);
      return finish('reverted', reason, true);
    }
    return revert(reason);
  };

  for (const [index, step] of steps.entries()) {
    const lastHold = steps[index + 1]?.holdMs === 0;
    const record: StepRecord = {
      weight: step.weight,
      holdMs: step.holdMs,
      startedAt: Math.round(now()),
      endedAt: 0,
      extendedMs: 0,
      verdict: 'passed',
      readings: [],
    };
    records.push(record);
    const close = (verdict: StepVerdict) => {
      record.verdict = verdict;
      record.endedAt = Math.round(now());
    };
    const progress = (kind: ProgressEvent['kind'], verdict: GateVerdict | undefined, extending: boolean) =>
      options.onProgress?.({
        kind,
        step: index + 1,
        steps: steps.length,
        weight: step.weight,
        at: Math.round(now()),
        rules: (verdict?.latest ?? []).map((r) => ({ rule: r.rule, state: ruleState(r) })),
        extending,
      });
    const title = `Step ${index + 1}/${steps.length}: canary ${step.weight}%${step.holdMs ? ` for ${formatDuration(step.holdMs)}` : ''}`;
    const outcome = await logger.group(title, async (): Promise<CanaryReport | undefined> => {
      if (signal.aborted) {
        close('cancelled');
        return revert('the run was cancelled');
      }
      try {
        await router.setWeight(step.weight);
      } catch (error) {
        if (error instanceof RouterChangedError) {
          close('router-changed');
          return changedUnderUs(error);
        }
        close('router-failed');
        return revert(`the router did not take ${step.weight}%: ${errorMessage(error)}`);
      }
      weight = step.weight;
      options.onWeight?.(step.weight);
      const weightSetAt = now();
      logger.info(`Canary at ${step.weight}% via ${router.description}.`);
      progress('step', undefined, false);
      if (step.holdMs === 0) {
        close('promoted');
        return finish('promoted', `every step passed its gate; canary at ${step.weight}%`, false);
      }
      const holdEnd = weightSetAt + step.holdMs;
      const extendUntil =
        holdEnd + (policy.action === 'extend' ? (policy.maxExtensionMs ?? Math.max(step.holdMs, DEFAULT_EXTENSION_MS)) : 0);
      let first = true;
      let holdOver = false;
      let extending = false;
      for (;;) {
        try {
          await router.verifyUnchanged?.();
        } catch (error) {
          if (error instanceof RouterChangedError) {
            close('router-changed');
            return changedUnderUs(error);
          }
          logger.warning(`Could not check that the router still holds ${step.weight}%: ${errorMessage(error)}`);
        }
        const endOfHold = now() >= holdEnd;
        const everyRule = first || (endOfHold && !holdOver);
        first = false;
        holdOver ||= endOfHold;
        const verdict = await gate.evaluate({ now: now(), weight: step.weight, weightSetAt, endOfHold, everyRule, signal });
        if (signal.aborted) {
          close('cancelled');
          return revert('the run was cancelled');
        }
        record.readings.push(...verdict.readings);
        for (const r of verdict.readings) logger.info(`  +${(r.at / 1000).toFixed(1)}s ${mark[r.status]} ${r.rule}: ${r.detail}`);
        progress('look', verdict, endOfHold);
        if (verdict.status === 'fail') {
          close('failed');
          return revert(`gate failed at ${step.weight}%: ${verdict.reason}`);
        }
        if (endOfHold) {
          if (verdict.status === 'pass' || (verdict.status === 'inconclusive' && !lastHold)) break;
          record.extendedMs = Math.round(now() - holdEnd);
          if (policy.action === 'revert' || now() >= extendUntil) {
            close('undecided');
            const after = extending ? ` and ${formatDuration(record.extendedMs)} more` : '';
            return revert(
              `gate undecided at ${step.weight}% after the ${formatDuration(step.holdMs)} hold${after}: ${undecidedReason(verdict)}`,
            );
          }
          if (!extending) {
            extending = true;
            logger.info(
              `  The hold ends undecided (${undecidedReason(verdict)}): extending it by up to ${formatDuration(extendUntil - holdEnd)}.`,
            );
          }
        }
        const next = endOfHold ? Math.min(gate.nextLookAt(), extendUntil) : Math.min(gate.nextLookAt(), holdEnd);
        try {
          await clock.sleep(Math.max(0, next - now()), signal);
        } catch {
          close('cancelled');
          return revert('the run was cancelled');
        }
      }
      record.extendedMs = extending ? Math.round(now() - holdEnd) : 0;
      close('passed');
      return undefined;
    });
    if (outcome) return outcome;
  }
  throw new Error('the schedule did not end at 100%');
}
