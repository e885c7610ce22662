import { formatDuration } from '../core/durations.ts';
import type { Logger } from '../core/logger.ts';
import { Gate } from '../gates/gate.ts';
import { expandPlaceholders } from '../gates/placeholders.ts';
import { type GateRule, mapQueries } from '../gates/rules.ts';
import type { MetricsProvider } from '../metrics/provider.ts';
import { createRouter } from '../routers/index.ts';
import { restoreStable } from '../routers/restore-stable.ts';
import type { TrafficRouter } from '../routers/router.ts';
import { isFixedRouting, isSlotRouting, routingExample, type Routing } from '../slots/config.ts';
import { describeRelease, type Release } from '../slots/release.ts';
import { otherSlot, type RampSides, type SlotName } from '../slots/sides.ts';
import { Slots } from '../slots/slots.ts';
import { slotRampRouter } from '../slots/traffic.ts';
import { type CanaryReport, type InconclusivePolicy, type ProgressEvent, runRamp } from './ramp.ts';
import type { Step } from './schedule.ts';

/** The GitHub side of a canary: the deployment it reports progress on, posted behind the traffic. */
export interface CanaryRecords {
  /** Queues a status; never waits. */
  progress(state: 'in_progress' | 'success' | 'failure', description: string): void;
}

export interface CanaryRequest {
  steps: readonly Step[];
  intervalMs: number;
  routing: Routing;
  gate: readonly GateRule[];
  /** What a hold that ends undecided does (default: extend). */
  inconclusive?: InconclusivePolicy;
}

export interface CanaryDeps {
  logger: Logger;
  signal: AbortSignal;
  metrics: MetricsProvider;
  records?: CanaryRecords;
  /** Told what the post step needs once traffic may move: the slot that is stable, in slot mode. */
  onStart(stable: SlotName | undefined): void;
  /** A leftover split from a dead runner is undone: all traffic is on the known-good side again. */
  onRestored(): void;
  onWeight(weight: number): void;
}

export interface CanaryOutcome {
  report: CanaryReport;
  sides: RampSides;
  /** The release ramped to, and the one it ramped from, where the router record says. */
  canary?: Release;
  stable?: Release;
  description: string;
}

/** The rules with `{canary-instances}` and the other placeholders filled in for this run's sides. */
export function expandRules(rules: readonly GateRule[], sides: RampSides): GateRule[] {
  return rules.map((rule) => mapQueries(rule, (query) => expandPlaceholders(query, sides)));
}

const shownOr = (release: Release | undefined, fallback: string) => (release ? describeRelease(release) : fallback);

/**
 * One canary. With slots, the router says which slot is live (stable) and the idle one (the
 * canary, where deploy put the new version); the ramp moves traffic to it and promotion makes it
 * live in the same write, the old slot kept running at 0. A leftover split from a dead runner goes
 * back to the slot the router record calls known good before anything else. The fixed form and
 * command routers ramp between the same servers every time, as before.
 */
export async function runCanary(request: CanaryRequest, deps: CanaryDeps): Promise<CanaryOutcome> {
  const { routing } = request;
  const { logger } = deps;
  if (!isSlotRouting(routing)) {
    const router = createRouter(routing, logger);
    await logger.group(`Checking ${router.description}`, () => router.check());
    const sides: RampSides = {
      stable: { addresses: isFixedRouting(routing) ? routing.stable : [] },
      canary: { addresses: isFixedRouting(routing) ? routing.canary : [] },
    };
    const gate = await checkedGate(request, deps, sides);
    deps.onStart(undefined);
    const leftover = await router.currentWeight?.();
    if (leftover !== undefined && leftover > 0 && leftover < 100) {
      await logger.group('Restoring stable after an unfinished rollout', async () => {
        logger.warning(`An earlier run left the canary at ${leftover}%: putting all traffic on stable before starting.`);
        await restoreStable(router, logger);
      });
      deps.onRestored();
    }
    const report = await ramp(request, deps, router, gate, 'the canary');
    return { report, sides, description: router.description };
  }

  const slots = new Slots(routing, logger);
  await logger.group(`Checking ${slots.description}`, () => slots.check('router', routingExample('router')));
  return slots.working(async () => {
    let view = await slots.view();
    if (view.recordProblem) logger.warning(`Ignoring the router record of ${slots.description}: ${view.recordProblem}`);
    if (view.split) {
      const good = view.live;
      if (!good) {
        throw new Error(
          `${slots.description} splits traffic (blue ${view.share.blue}%, green ${view.share.green}%) and keeps no record of which slot is known good: revert (which reads GitHub) before a canary`,
        );
      }
      deps.onStart(good);
      await logger.group('Restoring the known-good slot after an unfinished rollout', async () => {
        logger.warning(
          `An earlier run left ${otherSlot(good)} at ${view.share[otherSlot(good)]}%: putting all traffic on ${good}, the known-good slot, before starting.`,
        );
        await slots.change((v) => ({ slot: good, percent: 100, record: { live: good, slots: v.record?.slots ?? {} } }));
      });
      deps.onRestored();
    }
    view = await slots.adopt();
    const live = view.live;
    if (!live) throw new Error(`${slots.description} sends traffic to neither blue nor green`);
    const canary = otherSlot(live);
    const canaryRelease = view.record?.slots[canary];
    const stableRelease = view.record?.slots[live];
    if (view.record?.kept === canary) {
      throw new Error(
        `Nothing new to ramp: ${canary} still holds ${shownOr(canaryRelease, 'the release')} that was live before ${shownOr(stableRelease, `the one on ${live}`)}. Deploy the new version with strategy: canary first; traffic stays on ${live}`,
      );
    }
    if (!canaryRelease) logger.warning(`The router does not say what ${canary} holds; ramping to it anyway.`);
    const sides: RampSides = {
      stable: { slot: live, addresses: view.addresses[live] },
      canary: { slot: canary, addresses: view.addresses[canary] },
    };
    const gate = await checkedGate(request, deps, sides);
    deps.onStart(live);
    logger.info(
      `Ramping from ${live} (${shownOr(stableRelease, 'stable')}: ${sides.stable.addresses.join(', ')}) to ${canary} (${shownOr(canaryRelease, 'canary')}: ${sides.canary.addresses.join(', ')}).`,
    );
    const report = await ramp(request, deps, slotRampRouter(slots, canary), gate, shownOr(canaryRelease, canary));
    return {
      report,
      sides,
      ...(canaryRelease ? { canary: canaryRelease } : {}),
      ...(stableRelease ? { stable: stableRelease } : {}),
      description: slots.description,
    };
  });
}

/**
 * The gate for this run's sides, every query checked against Prometheus before any traffic moves:
 * a query it rejects, or a selector that could never match, stops the canary here.
 */
async function checkedGate(request: CanaryRequest, deps: CanaryDeps, sides: RampSides): Promise<Gate> {
  const gate = new Gate(expandRules(request.gate, sides), deps.metrics, request.intervalMs);
  await deps.logger.group('Checking every gate query against Prometheus', () => gate.preflight(deps.signal));
  return gate;
}

async function ramp(request: CanaryRequest, deps: CanaryDeps, router: TrafficRouter, gate: Gate, shown: string): Promise<CanaryReport> {
  deps.records?.progress('in_progress', `Canary ${shown}: starting`);
  // A status per look would bury the deployment's history: post only when what it says changes.
  let said = '';
  return runRamp({
    steps: request.steps,
    intervalMs: request.intervalMs,
    router,
    gate,
    logger: deps.logger,
    signal: deps.signal,
    ...(request.inconclusive ? { inconclusive: request.inconclusive } : {}),
    onWeight: deps.onWeight,
    onProgress: (event) => {
      const step = request.steps[event.step - 1];
      if (!step || event.weight >= 100) return;
      const description = progressDescription(shown, event, step.holdMs);
      if (description === said) return;
      said = description;
      deps.records?.progress('in_progress', description);
    },
  });
}

const STATE_WORDS: Partial<Record<ProgressEvent['rules'][number]['state'], string>> = {
  pass: 'ok',
  breach: 'out of bounds',
  'no-data': 'waiting for data',
  delayed: 'not yet',
};

/**
 * One in-progress status: the step, its weight and hold, and each rule's state, cut to the 140
 * characters GitHub keeps (the step and weight always fit; rules are dropped from the end).
 */
export function progressDescription(shown: string, event: ProgressEvent, holdMs: number): string {
  const head = `Canary ${shown}: ${event.weight}% (step ${event.step}/${event.steps}, ${formatDuration(holdMs)} hold${event.extending ? ', extended' : ''})`;
  const rules = event.rules.map((r) => `${r.rule} ${STATE_WORDS[r.state] ?? r.state}`);
  let text = rules.length ? `${head}; gate: ${rules.join(', ')}` : `${head}, gate watching`;
  while (text.length > 140 && rules.length > 1) {
    rules.pop();
    text = `${head}; gate: ${rules.join(', ')}, …`;
  }
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}

/** One line for the deployment status that ends the canary: GitHub keeps 140 characters. */
export function finalDescription(outcome: Pick<CanaryOutcome, 'report' | 'canary' | 'stable' | 'sides'>): string {
  const canary = shownOr(outcome.canary, 'the canary');
  if (outcome.report.result === 'promoted') {
    return `${canary} promoted: 100% on ${outcome.sides.canary.slot ?? 'the canary'} after ${formatDuration(outcome.report.durationMs)}`;
  }
  const back = outcome.report.stableRestored ? `all traffic on ${shownOr(outcome.stable, 'stable')}` : 'traffic NOT back on stable';
  return `${canary} reverted (${back}): ${outcome.report.reason}`;
}
