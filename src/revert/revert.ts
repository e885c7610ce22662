import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HealthConfig } from '../deploy/checks.ts';
import { artifactOnSlot, releaseOf } from '../deploy/history.ts';
import { switchTo, type DeploymentsApi } from '../deploy/rollout.ts';
import { phase, put, verify, type Phase } from '../deploy/strategies.ts';
import { revertedBy, type DeploymentRecord } from '../github/deployments.ts';
import { createRouter } from '../routers/index.ts';
import { restoreStable } from '../routers/restore-stable.ts';
import { isSlotRouting, routingExample, type Routing, type SlotRouting } from '../slots/config.ts';
import { describeRelease, type Release } from '../slots/release.ts';
import { otherSlot, type SlotName } from '../slots/sides.ts';
import { Slots, type SlotView } from '../slots/slots.ts';
import { planRevert, releaseNamed } from './plan.ts';

export interface RevertRequest {
  environment: string;
  reason: string;
  to: 'last-success' | string;
  /** deploy's target (with `run`), or canary's router: the same mapping. */
  target: Routing | undefined;
  router: Routing | undefined;
  health: HealthConfig | undefined;
  /** What makes two reverts the same request (the run id unless given). */
  request: string;
}

export interface RevertDeps {
  github: DeploymentsApi;
  logger: Logger;
  signal: AbortSignal;
  runId: string;
  /** Told the moment traffic has gone to the known-good side, before any GitHub call. */
  onRelief(what: string): void;
  onCreated(id: number): void;
  /** Told once the revert deployment's final status is written: the post step has nothing to settle. */
  onRecorded?(): void;
  setOutput(name: 'result' | 'artifact' | 'version' | 'from' | 'deployment-id', value: string): void;
  /** For tests: the slots to drive instead of the target's router. */
  slots?: Slots;
}

export interface RevertOutcome {
  result: 'reverted' | 'unchanged';
  heading: string;
  facts: Array<[string, string]>;
  phases: Phase[];
  from?: Release;
  to?: Release;
  /** How long from the start until traffic was on the known-good side, when it moved. */
  reliefMs?: number;
}

/** The revert failed after doing what `truth` says: the error line says both. */
export class RevertError extends Error {
  readonly phases: Phase[];
  constructor(message: string, phases: Phase[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevertError';
    this.phases = phases;
  }
}

type How = 'already-live' | 'switched-back' | 'redeployed' | 'stable' | 'kept-slot';

/**
 * A revert: traffic first, GitHub second, and safe to run again.
 *
 * 1. With a router, all traffic goes to the known-good side before any GitHub call: during a ramp
 *    (or one a dead runner left) the router record's live slot; after a promotion the kept slot,
 *    when the record says it still holds the previous live release and it answers health; with
 *    the canary's fixed router, stable.
 * 2. The history decides what is reverted (src/revert/plan.ts). The first GitHub write marks the
 *    reverted deployment failure, so a revert interrupted after it and run again never puts that
 *    release back.
 * 3. The good release is put in place if traffic is not on it yet: a switch back to a slot that
 *    holds it and answers health, else `run` on the idle slot, checked, then switched to.
 * 4. A new deployment records it, with the request that asked, so the same request again changes nothing.
 */
export async function revert(request: RevertRequest, deps: RevertDeps): Promise<RevertOutcome> {
  const started = performance.now();
  const { github, logger } = deps;
  const phases: Phase[] = [];
  const slotRouting = [request.target, request.router].find((r): r is SlotRouting => !!r && isSlotRouting(r));
  const slots = slotRouting && (deps.slots ?? new Slots(slotRouting, logger));
  const run = request.target?.run;
  const routerOnly = request.router && !isSlotRouting(request.router) ? createRouter(request.router, logger) : undefined;

  // 1. Traffic first.
  let reliefMs: number | undefined;
  let relief: How | undefined;
  if (slots) {
    await slots.check(slotRouting === request.target ? 'target' : 'router', routingExample('target'));
    relief = await reliefBySlots(slots, request, phases, logger);
  } else if (routerOnly) {
    await logger.group(`Checking ${routerOnly.description}`, () => routerOnly.check());
    await phase(phases, logger, 'All traffic to stable', async () => {
      await restoreStable(routerOnly, logger);
      return `${routerOnly.description}: canary weight 0`;
    });
    relief = 'stable';
  }
  if (relief) {
    reliefMs = performance.now() - started;
    deps.onRelief(phases.at(-1)?.detail ?? relief);
  }
  const truth = async () => (slots ? describeTraffic(await slots.view()) : relief === 'stable' ? 'all traffic is on stable' : undefined);

  // 2. GitHub: what is reverted, and its record first.
  const failedAfterRelief = async (error: unknown): Promise<never> => {
    const now = await truth().catch(() => undefined);
    const said = now ? `${now[0]!.toUpperCase()}${now.slice(1)}; the revert` : 'The revert';
    throw new RevertError(`${said} could not finish: ${errorMessage(error)}`, phases, { cause: error });
  };
  let history: DeploymentRecord[];
  try {
    history = await logger.group(`Reading the deployments of ${request.environment}`, () => github.history(request.environment));
  } catch (error) {
    return failedAfterRelief(error);
  }
  const to = request.to === 'last-success' ? 'last-success' : releaseNamed(history, request.to);
  const plan = planRevert(history, { to, environment: request.environment, runId: deps.runId, request: request.request });
  if (plan.kind === 'impossible') {
    const now = await truth();
    throw new RevertError(`Nothing ${relief ? 'else ' : ''}was reverted: ${plan.why}${now ? `; ${now}` : ''}.`, phases);
  }
  if (plan.kind === 'unchanged') {
    deps.setOutput('result', 'unchanged');
    deps.setOutput('artifact', plan.release.artifact);
    deps.setOutput('version', plan.release.version);
    logger.info(`Nothing to revert: ${plan.why}.`);
    return {
      result: 'unchanged',
      heading: `↩️ ${request.environment}: nothing to revert`,
      facts: [
        ['Why', plan.why],
        ['Live', describeRelease(plan.release)],
      ],
      phases,
      ...(reliefMs !== undefined ? { reliefMs } : {}),
    };
  }

  const { bad, good } = plan;
  const from = releaseOf(bad);
  logger.info(
    `Reverting ${request.environment} from ${describeRelease(from)} (deployment ${bad.id}) to ${describeRelease(good)}: ${request.reason}`,
  );
  deps.setOutput('from', from.artifact);
  let id: number;
  try {
    if (bad.states[0] !== 'failure' && bad.states[0] !== 'error') {
      await github.setStatus(bad.id, 'failure', `${revertedBy(request.request)} to ${describeRelease(good)}: ${request.reason}`);
      bad.states.unshift('failure');
    }
    if (plan.resume) {
      id = plan.resume.id;
    } else {
      const slot = slots ? await slotFor(slots, history, good) : undefined;
      id = await github.create({
        environment: request.environment,
        payload: {
          artifact: good.artifact,
          version: good.version,
          previous: from.artifact,
          ...(slot ? { slot } : {}),
          strategy: 'revert',
          run: deps.runId,
          revert: { from: from.artifact, reason: request.reason, run: request.request },
        },
        description: `Revert to ${describeRelease(good)}: ${request.reason}`,
        production: bad.productionEnvironment,
        transient: false,
      });
    }
    deps.onCreated(id);
    deps.setOutput('deployment-id', String(id));
    await github.setStatus(id, 'in_progress', `Reverting from ${describeRelease(from)}: ${request.reason}`);
  } catch (error) {
    return failedAfterRelief(error);
  }

  // 3. The good release in place.
  let how: How;
  try {
    if (slots) how = await putBack(slots, good, history, request, run, phases, logger, deps.signal);
    else if (request.target?.type === 'command' && run) {
      const placement = { ...good, environment: request.environment };
      await put(run, request.target.timeout ?? 600_000, placement, phases, logger, request.target.env);
      await verify({ health: request.health, smoke: [], signal: deps.signal }, placement, phases, logger);
      how = 'redeployed';
    } else how = relief ?? 'stable';
  } catch (error) {
    const message = `could not put ${describeRelease(good)} back: ${errorMessage(error)}`;
    await github.setStatus(id, 'failure', message).then(
      () => deps.onRecorded?.(),
      (e: unknown) => logger.warning(`Could not record it: ${errorMessage(e)}`),
    );
    const now = await truth().catch(() => undefined);
    throw new RevertError(
      `Reverting ${request.environment} to ${describeRelease(good)} failed: ${message}${now ? `; ${now}` : ''}`,
      phases,
      {
        cause: error,
      },
    );
  }

  // 4. The record.
  try {
    await github.setStatus(id, 'success', `${describeRelease(good)} is live again`);
    deps.onRecorded?.();
    await github.retireEarlier(history, id);
  } catch (error) {
    return failedAfterRelief(error);
  }
  deps.setOutput('result', 'reverted');
  deps.setOutput('artifact', good.artifact);
  deps.setOutput('version', good.version);
  const said: Record<How, string> = {
    'already-live': 'it was still live',
    'switched-back': 'switched back to the slot that kept it',
    'kept-slot': 'switched back to the kept slot first thing',
    redeployed: 'redeployed',
    stable: 'traffic moved to stable',
  };
  return {
    result: 'reverted',
    heading: `↩️ ${request.environment} reverted from ${describeRelease(from)} to ${describeRelease(good)}`,
    facts: [
      ['Environment', request.environment],
      ['From', `${describeRelease(from)} (deployment ${bad.id}, now failure)`],
      ['To', `${describeRelease(good)} (deployment ${id}), ${relief === 'kept-slot' ? said['kept-slot'] : said[how]}`],
      ['Why', request.reason],
      ...(reliefMs !== undefined
        ? ([['Traffic on the known-good side after', `${Math.round(reliefMs)} ms`]] as Array<[string, string]>)
        : []),
    ],
    phases,
    from,
    to: good,
    ...(reliefMs !== undefined ? { reliefMs } : {}),
  };
}

export function describeTraffic(view: SlotView): string {
  if (view.split) return `traffic is split (blue ${view.share.blue}%, green ${view.share.green}%)`;
  if (!view.live) return 'no slot carries traffic';
  const release = view.record?.slots[view.live];
  return `traffic is on ${release ? describeRelease(release) : 'the release'} (${view.live})`;
}

/**
 * The relief, before any GitHub call: a split (a ramp, or one a dead runner left) goes all to the
 * record's live slot; after a promotion, all to the kept slot when it answers health. Says what
 * it did, or undefined when the router alone cannot tell what is known good.
 */
async function reliefBySlots(slots: Slots, request: RevertRequest, phases: Phase[], logger: Logger): Promise<How | undefined> {
  const view = await slots.view();
  if (view.recordProblem) logger.warning(`Ignoring the router record of ${slots.description}: ${view.recordProblem}`);
  if (view.split) {
    const good = view.live;
    if (!good) {
      logger.warning(`${slots.description} splits traffic and keeps no record of the known-good slot: GitHub's history decides.`);
      return undefined;
    }
    await phase(phases, logger, `All traffic to ${good}`, async () => {
      await slots.change((v) =>
        v.split && v.live === good ? { slot: good, percent: 100, record: { live: good, slots: v.record?.slots ?? {} } } : undefined,
      );
      return `${slots.description}: all traffic on ${good}, the known-good slot (the ramp is stopped)`;
    });
    return 'stable';
  }
  const kept = view.record?.kept;
  const keptRelease = kept && view.record?.slots[kept];
  if (!kept || !keptRelease || !view.live) return undefined;
  if (request.to !== 'last-success' && request.to !== keptRelease.artifact) return undefined;
  const placement = {
    ...keptRelease,
    environment: request.environment,
    slot: kept,
    addresses: view.addresses[kept],
    address: view.addresses[kept][0]!,
  };
  if (request.health) {
    const healthy = await verify({ health: request.health, smoke: [] }, placement, [], logger).then(
      () => true,
      (error: unknown) => {
        logger.warning(`The kept ${kept} slot does not answer health (${errorMessage(error)}); GitHub's history decides.`);
        return false;
      },
    );
    if (!healthy) return undefined;
  } else {
    logger.warning(`No health input: switching back to the kept ${kept} slot on the router record's word.`);
  }
  const live = view.live;
  await phase(phases, logger, `All traffic to ${kept}`, async () => {
    await slots.change((v) =>
      v.live === live && !v.split && v.record?.kept === kept
        ? { slot: kept, percent: 100, record: { live: kept, slots: v.record.slots } }
        : undefined,
    );
    return `${slots.description}: all traffic on ${kept}, which kept ${describeRelease(keptRelease)}`;
  });
  return 'kept-slot';
}

/** The slot `release` will be live on: the live one if it holds it, else the idle one. */
async function slotFor(slots: Slots, history: readonly DeploymentRecord[], release: Release): Promise<SlotName> {
  const view = await slots.view();
  const live = view.live ?? 'blue';
  return holds(view, history, live, release) ? live : otherSlot(live);
}

function holds(view: SlotView, history: readonly DeploymentRecord[], slot: SlotName, release: Release): boolean {
  const recorded = view.record?.slots[slot];
  return recorded ? recorded.artifact === release.artifact : artifactOnSlot(history, slot) === release.artifact;
}

async function putBack(
  slots: Slots,
  good: Release,
  history: readonly DeploymentRecord[],
  request: RevertRequest,
  run: string[] | undefined,
  phases: Phase[],
  logger: Logger,
  signal: AbortSignal,
): Promise<How> {
  let view = await slots.view();
  if (view.split || !view.live) {
    // No record said which slot was good: the history does.
    const slot = (['blue', 'green'] as const).find((s) => holds(view, history, s, good));
    if (!slot) throw new Error(`traffic is split and neither slot is known to hold ${describeRelease(good)}`);
    await switchTo(slots, slot, slot, phases, logger);
    view = await slots.view();
  }
  const live = view.live!;
  if (holds(view, history, live, good)) {
    phases.push({ name: `${describeRelease(good)} is live`, passed: true, detail: `${live} already serves it; nothing to switch` });
    return 'already-live';
  }
  const idle = otherSlot(live);
  const placement = {
    ...good,
    environment: request.environment,
    slot: idle,
    addresses: view.addresses[idle],
    address: view.addresses[idle][0]!,
  };
  const checks = { health: request.health, smoke: [], signal };
  if (holds(view, history, idle, good)) {
    const kept = await verify(checks, placement, phases, logger).then(
      () => true,
      () => false,
    );
    if (kept) {
      await switchTo(slots, idle, idle, phases, logger);
      return 'switched-back';
    }
    logger.warning(`The ${idle} slot does not answer health; putting ${describeRelease(good)} on it again.`);
  }
  if (!run) throw new Error(`${describeRelease(good)} is on neither slot, and the target has no run to put it there`);
  await slots.working(async () => {
    await slots.change((v) => {
      if (v.live !== live || v.split) throw new Error(`${slots.description} changed while the revert was working (${describeTraffic(v)})`);
      return { slot: live, percent: 100, record: { live, slots: { ...v.record?.slots, [idle]: good } } };
    });
    await put(run, slotsTimeout(request), placement, phases, logger, request.target?.env);
    await verify(checks, placement, phases, logger);
    await switchTo(slots, idle, idle, phases, logger);
  });
  return 'redeployed';
}

const slotsTimeout = (request: RevertRequest) => request.target?.timeout ?? 600_000;
