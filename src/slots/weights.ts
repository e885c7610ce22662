/**
 * Per-server weights that give the canary pool `percent`% of requests and the stable pool the
 * rest, whatever the pool sizes: weighted round robin sends each server its weight's share of the
 * total, so a pool's share is the sum of its servers' weights over the sum of all.
 */
export interface Split {
  canary: number[];
  stable: number[];
  /** The canary pool's share these weights give, in percent (equal to the request unless `max` made that impossible). */
  share: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Spreads `total` over `count` servers as evenly as integers allow. */
const spread = (total: number, count: number) =>
  Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));

const shareOf = (canary: number[], stable: number[]) => {
  const c = canary.reduce((a, b) => a + b, 0);
  const s = stable.reduce((a, b) => a + b, 0);
  return (100 * c) / (c + s);
};

/**
 * `max` is the largest weight the router takes (HAProxy: 256). At rest (0 or 100) every serving
 * server gets 100, as a one-server pool has always had. In between, equal weights within each
 * pool when they fit (for two pools of one server, the percentages themselves), else pool totals
 * in the exact ratio spread over their servers, else the closest equal weights there are.
 */
export function splitWeights(percent: number, canaryCount: number, stableCount: number, max: number): Split {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new Error(`${percent} is not a whole percentage`);
  const rest = Math.min(100, max);
  if (percent === 0) return { canary: Array(canaryCount).fill(0), stable: Array(stableCount).fill(rest), share: 0 };
  if (percent === 100) return { canary: Array(canaryCount).fill(rest), stable: Array(stableCount).fill(0), share: 100 };
  const m = canaryCount;
  const n = stableCount;
  const g = gcd(m, n);
  let c = percent * (n / g);
  let s = (100 - percent) * (m / g);
  const common = gcd(c, s);
  if (Math.max(c, s) > max) [c, s] = [c / common, s / common];
  if (Math.max(c, s) <= max) return { canary: Array(m).fill(c), stable: Array(n).fill(s), share: percent };
  const unit = gcd(percent, 100 - percent);
  const [c0, s0] = [percent / unit, (100 - percent) / unit];
  for (let k = 1; Math.ceil((k * c0) / m) <= max && Math.ceil((k * s0) / n) <= max; k++) {
    if (k * c0 >= m && k * s0 >= n) return { canary: spread(k * c0, m), stable: spread(k * s0, n), share: percent };
  }
  let best: Split = { canary: Array(m).fill(1), stable: Array(n).fill(1), share: shareOf(Array(m).fill(1), Array(n).fill(1)) };
  for (let cw = 1; cw <= max; cw++) {
    const sw = Math.min(max, Math.max(1, Math.round((cw * (100 - percent) * m) / (percent * n))));
    const canary = Array(m).fill(cw);
    const stable = Array(n).fill(sw);
    const share = shareOf(canary, stable);
    if (Math.abs(share - percent) < Math.abs(best.share - percent)) best = { canary, stable, share };
  }
  return best;
}

/** The canary pool's share of traffic given each side's current weights, in whole percent. */
export function currentShare(canary: readonly number[], stable: readonly number[]): number {
  const c = canary.reduce((a, b) => a + b, 0);
  const s = stable.reduce((a, b) => a + b, 0);
  return c + s === 0 ? 0 : Math.round((100 * c) / (c + s));
}
