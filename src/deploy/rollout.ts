import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Deployments, DeploymentRecord } from '../github/deployments.ts';
import { changedMessage, RouterChangedError } from '../routers/router.ts';
import { routingExample, type CommandRouting, type SlotRouting } from '../slots/config.ts';
import { describeRelease, type Release } from '../slots/release.ts';
import { otherSlot, type SlotName } from '../slots/sides.ts';
import { Slots, type SlotView } from '../slots/slots.ts';
import type { HealthConfig, SmokeCheck } from './checks.ts';
import { liveDeployment, releaseOf, unfinished, unrecordedLive } from './history.ts';
import { substitute, type Placement } from './placement.ts';
import { put, verify, type Phase, type Strategy } from './strategies.ts';

export type DeploymentsApi = Pick<Deployments, 'history' | 'create' | 'setStatus' | 'retireEarlier'>;

export interface DeployRequest {
  environment: string;
  release: Release;
  environmentUrl: string | undefined;
  production: boolean | undefined;
  transient: boolean;
  strategy: Strategy;
  target: { kind: 'command'; routing: CommandRouting & { run: string[] } } | { kind: 'slots'; routing: SlotRouting & { run: string[] } };
  health: HealthConfig | undefined;
  smoke: readonly SmokeCheck[];
  onFailure: 'revert' | 'fail';
}

export interface DeployDeps {
  github: DeploymentsApi;
  logger: Logger;
  signal: AbortSignal;
  runId: string;
  /** Told the deployment's id the moment it exists, so a post step can settle it if the run dies. */
  onCreated(id: number, environmentUrl: string | undefined): void;
  /** Told once the deployment's outcome is recorded (or could not be): the post step has nothing to do. */
  onSettled(): void;
  /** Told every output as soon as it is known. */
  setOutput(name: 'result' | 'deployment-id' | 'version' | 'previous-artifact' | 'slot' | 'environment-url', value: string): void;
  /** For tests: the slots to drive instead of the target's router. */
  slots?: Slots;
}

export interface DeployOutcome {
  result: 'success' | 'staged' | 'failure';
  heading: string;
  facts: Array<[string, string]>;
  phases: Phase[];
  /** The step's error line, when it fails. */
  error?: string;
  /** Said as a warning: the truth when GitHub failed after traffic moved. */
  warnings: string[];
}

/** Says why the slots cannot take a new version now; undefined when they can. */
export function slotsBusy(view: SlotView, description: string): string | undefined {
  if (view.split) {
    const known = view.live ? ` (${view.live} is the known-good slot)` : '';
    return `${description} splits traffic (blue ${view.share.blue}%, green ${view.share.green}%)${known}: a canary is ramping, or a run died mid-ramp. Finish it or revert before deploying, so no version is put on a slot that serves traffic`;
  }
  if (!view.live) return `${description} sends traffic to neither blue nor green`;
  return undefined;
}

/**
 * One deploy, from the environment's history to the GitHub record. Slots: the artifact goes on
 * the idle slot (read from the router, never remembered), is checked there on every server, then
 * blue-green switches at once, and canary leaves traffic where it is and the deployment waiting
 * for the canary. A slot carrying any traffic is never touched. Command: the run replaces what runs.
 */
export async function deploy(request: DeployRequest, deps: DeployDeps): Promise<DeployOutcome> {
  const { environment, release, strategy, target } = request;
  const { github, logger } = deps;
  const shown = describeRelease(release);
  let slots: Slots | undefined;
  let live: SlotName | undefined;
  let view: SlotView | undefined;
  if (target.kind === 'slots') {
    slots = deps.slots ?? new Slots(target.routing, logger);
    view = await slots.check('target', routingExample('target'));
    const busy = slotsBusy(view, slots.description);
    if (busy) throw new Error(`Nothing was deployed: ${busy}.`);
    if (view.recordProblem) logger.warning(`Ignoring the router record of ${slots.description}: ${view.recordProblem}`);
    live = view.live!;
  }
  const idle = live && otherSlot(live);
  const placement: Placement = {
    ...release,
    environment,
    ...(idle && view ? { slot: idle, addresses: view.addresses[idle], address: view.addresses[idle][0]! } : {}),
  };
  const environmentUrl = request.environmentUrl && substitute(request.environmentUrl, placement, true);
  deps.setOutput('version', release.version);
  deps.setOutput('slot', idle ?? '');
  deps.setOutput('environment-url', environmentUrl ?? '');

  const rollout = async (): Promise<DeployOutcome> => {
    const phases: Phase[] = [];
    const warnings: string[] = [];
    const history = await logger.group(`Reading the deployments of ${environment}`, () => github.history(environment));
    if (view) await reconcile(github, history, view, logger);
    const previous = (live && view?.record?.slots[live]) ?? (liveDeployment(history) && releaseOf(liveDeployment(history)!));
    logger.info(previous ? `${describeRelease(previous)} is live in ${environment}.` : `No earlier release of ${environment} is known.`);
    deps.setOutput('previous-artifact', previous?.artifact ?? '');
    const id = await github.create({
      environment,
      payload: {
        artifact: release.artifact,
        version: release.version,
        previous: previous?.artifact ?? null,
        ...(idle ? { slot: idle } : {}),
        strategy,
        run: deps.runId,
      },
      description: `${shown} (${strategy})`,
      production: request.production,
      transient: request.transient,
    });
    deps.onCreated(id, environmentUrl);
    deps.setOutput('deployment-id', String(id));
    await github.setStatus(id, 'in_progress', `Deploying ${shown} (${strategy})${idle ? ` onto ${idle}` : ''}`, environmentUrl);

    const facts: Array<[string, string]> = [
      ['Environment', environment],
      ['Release', shown],
      ['Artifact', release.artifact],
      ['Previous', previous ? describeRelease(previous) : '(none)'],
      ['Strategy', strategy + (idle ? ` (onto ${idle}; ${live} is live)` : '')],
      ['Deployment', String(id)],
    ];
    const checks = { health: request.health, smoke: request.smoke, signal: deps.signal };
    const record = async (state: 'success' | 'in_progress', description: string, truth: string) => {
      try {
        await github.setStatus(id, state, description, environmentUrl);
      } catch (error) {
        warnings.push(
          `${truth}; the GitHub record could not be written (${errorMessage(error)}). The next Shipgate run records it from the router.`,
        );
      }
      deps.onSettled();
    };
    try {
      deps.signal.throwIfAborted();
      if (target.kind === 'command') {
        await put(target.routing.run, target.routing.timeout ?? 600_000, placement, phases, logger, target.routing.env);
        await verify(checks, placement, phases, logger);
      } else {
        await stage(slots!, live!, release, previous);
        await retireStaged(github, history, idle!, shown, logger, warnings);
        await put(target.routing.run, target.routing.timeout ?? 600_000, placement, phases, logger, target.routing.env);
        await verify(checks, placement, phases, logger);
        if (strategy === 'blue-green') await switchTo(slots!, idle!, live!, phases, logger);
      }
    } catch (error) {
      return failure(error, { request, deps, id, phases, facts, previous, placement, environmentUrl, warnings });
    }
    if (strategy === 'canary') {
      const truth = `${shown} is on ${idle}, checked; traffic stays on ${live} until the canary moves it`;
      await record('in_progress', `${shown} is on ${idle}, checked: waiting for the canary`, truth);
      return { result: 'staged', heading: `🟡 ${shown} is ready on ${idle} in ${environment}`, facts, phases, warnings };
    }
    await record('success', `${shown} is live${idle ? ` on ${idle}` : ''}`, `traffic is on ${shown}`);
    try {
      const retired = await github.retireEarlier(history, id);
      if (retired.length) logger.info(`Marked earlier deployments ${retired.join(', ')} inactive.`);
    } catch (error) {
      warnings.push(`Earlier deployments could not be marked inactive: ${errorMessage(error)}`);
    }
    return { result: 'success', heading: `✅ ${shown} is live in ${environment}`, facts, phases, warnings };
  };
  return slots ? slots.working(rollout) : rollout();
}

/** Writes the success GitHub never got for the release the router shows live. */
export async function reconcile(
  github: Pick<DeploymentsApi, 'setStatus'>,
  history: DeploymentRecord[],
  view: SlotView,
  logger: Logger,
): Promise<void> {
  const missing = unrecordedLive(history, view);
  if (!missing) return;
  const shown = describeRelease(releaseOf(missing));
  try {
    await github.setStatus(missing.id, 'success', `${shown} is live on ${view.live} (the router says so; recorded late)`);
    missing.states.unshift('success');
    logger.info(`Recorded deployment ${missing.id} of ${shown} as success: the router shows it live, GitHub did not know.`);
  } catch (error) {
    logger.warning(`Could not record deployment ${missing.id} of ${shown} as success: ${errorMessage(error)}`);
  }
}

/**
 * Deployments that put a release on `slot` and never went live there (staged, and their canary
 * never ran, was refused, or died with its post step): the slot now holds another release, so
 * they would show in progress forever. Marked inactive, naming what replaced them.
 */
async function retireStaged(
  github: Pick<DeploymentsApi, 'setStatus'>,
  history: DeploymentRecord[],
  slot: SlotName,
  shown: string,
  logger: Logger,
  warnings: string[],
): Promise<void> {
  for (const deployment of history) {
    if (deployment.payload.slot !== slot || !unfinished(deployment) || deployment.states.includes('success')) continue;
    const was = describeRelease(releaseOf(deployment));
    try {
      await github.setStatus(deployment.id, 'inactive', `${was} never went live: ${shown} replaced it on ${slot}`);
      deployment.states.unshift('inactive');
      logger.info(`Marked deployment ${deployment.id} of ${was} inactive: it never went live, and ${slot} now holds ${shown}.`);
    } catch (error) {
      warnings.push(`Deployment ${deployment.id} of ${was} could not be marked inactive: ${errorMessage(error)}`);
    }
  }
}

/**
 * Notes in the router record that the idle slot is about to hold `release` (it no longer keeps
 * the previous version), refusing if that slot carries any traffic. What this writes is what the
 * switch later compares with.
 */
async function stage(slots: Slots, live: SlotName, release: Release, previous: Release | undefined): Promise<void> {
  const idle = otherSlot(live);
  await slots.change((view) => {
    const busy = slotsBusy(view, slots.description);
    if (busy) throw new Error(busy);
    if (view.live !== live) throw new RouterChangedError(changedMessage(slots.description, `${view.live} live`));
    const known = view.record?.slots[live] ?? previous;
    return {
      slot: live,
      percent: 100,
      record: { live, slots: { ...view.record?.slots, ...(known ? { [live]: known } : {}), [idle]: release } },
    };
  });
}

/** All traffic to `slot` in one write; the slot it leaves keeps running the previous version. */
export async function switchTo(slots: Slots, slot: SlotName, from: SlotName, phases: Phase[], logger: Logger): Promise<void> {
  const name = `Switch traffic to ${slot}`;
  await logger.group(name, async () => {
    try {
      await slots.change((view) => ({
        slot,
        percent: 100,
        record: { live: slot, ...(from !== slot ? { kept: from } : {}), slots: view.record?.slots ?? {} },
      }));
      const detail = `${slots.description} now routes all traffic to ${slot}`;
      phases.push({ name, passed: true, detail });
      logger.info(detail);
    } catch (error) {
      phases.push({ name, passed: false, detail: errorMessage(error) });
      throw error;
    }
  });
}

interface FailureContext {
  request: DeployRequest;
  deps: DeployDeps;
  id: number;
  phases: Phase[];
  facts: Array<[string, string]>;
  previous: Release | undefined;
  placement: Placement;
  environmentUrl: string | undefined;
  warnings: string[];
}

async function failure(error: unknown, context: FailureContext): Promise<DeployOutcome> {
  const { request, deps, id, phases, facts, previous, placement, environmentUrl, warnings } = context;
  const { github, logger } = deps;
  const shown = describeRelease(request.release);
  const reason = errorMessage(error);
  const where = request.environment;
  const note = async (description: string) => {
    try {
      await github.setStatus(id, 'failure', description, environmentUrl);
    } catch (writeError) {
      warnings.push(`The failure could not be recorded on deployment ${id}: ${errorMessage(writeError)}`);
    }
    deps.onSettled();
  };
  if (deps.signal.aborted) {
    // No revert in the seconds before the runner kills us: say what is live, and leave it. Slots
    // switch only after their checks, so a cancelled one never switched; recreate's first phase
    // already put the artifact live once it passed.
    const left = request.target.kind === 'command' && phases[0]?.passed ? `${shown} is live, unchecked` : 'nothing was switched';
    await note(`${shown}: ${reason}; ${left}`);
    return {
      result: 'failure',
      heading: `⏹️ Deploy of ${shown} to ${where} was cancelled`,
      facts,
      phases,
      warnings,
      error: `Deploy of ${shown} to ${where} stopped: ${reason}; ${left}`,
    };
  }
  await note(`${shown} failed: ${reason}`);
  let outcome = '';
  if (request.target.kind === 'slots') {
    outcome = previous ? `; traffic never left ${describeRelease(previous)}` : '; traffic never moved';
  } else if (previous && request.onFailure === 'revert') {
    const back: Placement = { ...placement, ...previous };
    try {
      await logger.group(`Putting ${describeRelease(previous)} back`, async () => {
        await put(request.target.routing.run, request.target.routing.timeout ?? 600_000, back, phases, logger, request.target.routing.env);
        await verify({ health: request.health, smoke: [] }, back, phases, logger);
      });
      outcome = `; ${describeRelease(previous)} was put back (redeployed)`;
    } catch (restoreError) {
      logger.warning(`Could not put ${describeRelease(previous)} back: ${errorMessage(restoreError)}`);
      outcome = `; putting ${describeRelease(previous)} back failed too: ${errorMessage(restoreError)}`;
    }
  }
  return {
    result: 'failure',
    heading: `❌ Deploy of ${shown} to ${where} failed`,
    facts,
    phases,
    warnings,
    error: `Deploy of ${shown} to ${where} failed: ${reason}${outcome}`,
  };
}
