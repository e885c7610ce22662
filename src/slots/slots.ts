import type { Logger } from '../core/logger.ts';
import { logText } from '../core/untrusted.ts';
import { HaproxyBackend } from '../routers/haproxy.ts';
import { NginxUpstream } from '../routers/nginx-upstream.ts';
import { changedMessage, fingerprint, RouterChangedError, type RouterSnapshot, type WeightedRouter } from '../routers/router.ts';
import type { SlotRouting } from './config.ts';
import { withLock } from './lock.ts';
import { formatRecord, type RouterRecord } from './record.ts';
import { otherSlot, SLOT_NAMES, type SlotName } from './sides.ts';
import { currentShare, splitWeights } from './weights.ts';

/** The slots as the router holds them now. */
export interface SlotView {
  /** Each slot's share of traffic, in whole percent. */
  share: Record<SlotName, number>;
  /** Each slot's servers as `host:port` (HAProxy's read from its runtime API). */
  addresses: Record<SlotName, string[]>;
  record?: RouterRecord;
  /** Why a record that is there was not used (already log-safe). */
  recordProblem?: string;
  /**
   * The known-good slot: the one carrying all traffic, or while traffic is split (a ramp, or one a
   * dead runner left), the record's live slot. Undefined when split with no record, or when nothing serves.
   */
  live?: SlotName;
  /** Both slots carry traffic. */
  split: boolean;
}

/** What a router write sets: `percent` of traffic to `slot` and the rest to the other one, and the record. */
export interface SlotTarget {
  slot: SlotName;
  percent: number;
  record?: RouterRecord;
}

const describeShares = (view: Pick<SlotView, 'share'>) => `blue ${view.share.blue}%, green ${view.share.green}%`;

/**
 * The blue and green slots behind one router: the one home of reading the live slot, writing
 * weights and the record, and the compare-and-set that keeps runs from overwriting each other.
 * Every write happens under the router lock and first checks that the router still holds what
 * this run last set (RouterChangedError otherwise); reads need no lock.
 */
export class Slots {
  readonly routing: SlotRouting;
  readonly router: WeightedRouter;
  private readonly pools: Record<SlotName, readonly string[]>;
  private readonly logger: Logger;
  /** The fingerprint of what this run last set or adopted; undefined until then. */
  private expected: string | undefined;

  constructor(routing: SlotRouting, logger: Logger, router?: WeightedRouter) {
    this.routing = routing;
    this.logger = logger;
    this.pools = { blue: routing.blue, green: routing.green };
    const owned = [...routing.blue, ...routing.green];
    this.router =
      router ??
      (routing.type === 'nginx'
        ? new NginxUpstream({
            configFile: routing['config-file'],
            upstream: routing.upstream,
            owned,
            reloadCommand: routing['reload-command'],
            testCommand: routing['test-command'],
            passEnv: routing.env,
          })
        : new HaproxyBackend({ socket: routing.socket, backend: routing.backend, owned, logger }));
  }

  get description(): string {
    return this.router.description;
  }

  /** Checks the router can be driven and its slots read, without changing anything. */
  async check(input: string, example: string): Promise<SlotView> {
    await this.router.check(input, example);
    return this.view();
  }

  async view(): Promise<SlotView> {
    return this.toView(await this.router.read());
  }

  /** Takes what the router holds now as what this run last set: later writes compare with it. */
  async adopt(): Promise<SlotView> {
    const snapshot = await this.router.read();
    this.expected = snapshot.fingerprint;
    return this.toView(snapshot);
  }

  /** Throws RouterChangedError when the router no longer holds what this run last set. */
  async verifyUnchanged(): Promise<void> {
    if (this.expected === undefined) return;
    const snapshot = await this.router.read();
    if (snapshot.fingerprint !== this.expected)
      throw new RouterChangedError(changedMessage(this.description, describeShares(this.toView(snapshot))));
  }

  /** Runs `fn` holding the slots lock, which fails fast: for work that puts a version on a slot or ramps onto one. */
  async working<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(await this.router.lockKey(), 'slots', this.description, this.logger, fn);
  }

  /**
   * Under the router lock: reads the router, compares it with what this run last set, and writes
   * what `decide` asks for (undefined: nothing). When someone else changed the router meanwhile,
   * it writes nothing and throws RouterChangedError, unless the router already holds what we want.
   */
  async change(decide: (view: SlotView) => SlotTarget | undefined): Promise<SlotView> {
    return withLock(await this.router.lockKey(), 'router', this.description, this.logger, async () => {
      const snapshot = await this.router.read();
      const view = this.toView(snapshot);
      const target = decide(view);
      if (!target) return view;
      const weights = this.weightsFor(target);
      const wanted = fingerprint(weights, target.record ? formatRecord(target.record) : snapshot.recordText);
      if (this.expected !== undefined && snapshot.fingerprint !== this.expected && snapshot.fingerprint !== wanted) {
        throw new RouterChangedError(changedMessage(this.description, describeShares(view)));
      }
      if (snapshot.fingerprint === wanted) {
        this.expected = wanted;
        return view;
      }
      await this.router.write(weights, target.record);
      const after = await this.router.read();
      this.expected = after.fingerprint;
      return this.toView(after);
    });
  }

  private weightsFor(target: SlotTarget): Map<string, number> {
    const other = otherSlot(target.slot);
    const split = splitWeights(target.percent, this.pools[target.slot].length, this.pools[other].length, this.router.maxWeight);
    if (split.share !== target.percent) {
      this.logger.warning(
        `${target.percent}% cannot be split exactly over ${this.pools[target.slot].length} and ${this.pools[other].length} servers within weight ${this.router.maxWeight}; ${target.slot} gets ${split.share.toFixed(2)}%.`,
      );
    }
    const weights = new Map<string, number>();
    this.pools[target.slot].forEach((id, i) => weights.set(id, split.canary[i]!));
    this.pools[other].forEach((id, i) => weights.set(id, split.stable[i]!));
    return weights;
  }

  private toView(snapshot: RouterSnapshot): SlotView {
    const weightsOf = (slot: SlotName) => this.pools[slot].map((id) => snapshot.servers.get(id)?.weight ?? 0);
    const blue = currentShare(weightsOf('blue'), weightsOf('green'));
    const share = { blue, green: weightsOf('green').some((w) => w > 0) || weightsOf('blue').some((w) => w > 0) ? 100 - blue : 0 };
    const addresses = Object.fromEntries(
      SLOT_NAMES.map((slot) => [slot, this.pools[slot].map((id) => snapshot.servers.get(id)?.address ?? id)]),
    ) as Record<SlotName, string[]>;
    const serving = SLOT_NAMES.filter((slot) => share[slot] > 0);
    const split = serving.length === 2;
    let { record, recordProblem } = snapshot;
    if (record && serving.length === 1 && record.live !== serving[0]) {
      recordProblem = `the record says ${record.live} is live, but ${serving[0]} carries all traffic`;
      record = undefined;
    }
    const live = split ? record?.live : serving[0];
    return {
      share,
      addresses,
      split,
      ...(record ? { record } : {}),
      ...(recordProblem ? { recordProblem: logText(recordProblem, 300) } : {}),
      ...(live ? { live } : {}),
    };
  }
}
