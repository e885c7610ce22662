import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { haproxyCommand } from '../../src/routers/haproxy.ts';
import { startHaproxy } from '../support/haproxy.ts';
import { LoadGenerator, trafficStats } from '../support/load.ts';
import { runStep } from '../support/runner.ts';
import { type AppMode, startApp, startPrometheus, stopAll } from '../support/services.ts';

afterEach(() => stopAll());

/**
 * HAProxy names its servers, not their addresses, and a command router names nothing, so this gate
 * tells the sides apart by a `version` label set in Prometheus' scrape config.
 */
const ratio = (window: string) =>
  `sum(rate(http_requests_total{version="canary",code="500"}[${window}])) / sum(rate(http_requests_total{version="canary"}[${window}]))`;
const versionGate = [
  { name: 'error-rate', query: ratio('10s'), max: 0.02 },
  {
    name: 'p95-latency',
    query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{version="canary"}[10s])))',
    max: 0.25,
  },
];

async function apps(canaryMode: AppMode) {
  const stable = await startApp('stable');
  const canary = await startApp('canary', canaryMode);
  const prometheus = await startPrometheus([
    { address: stable.address, labels: { version: 'stable' } },
    { address: canary.address, labels: { version: 'canary' } },
  ]);
  return { stable, canary, prometheus };
}

describe('canary through HAProxy’s runtime API (no reload)', () => {
  it.each([
    ['promotes a good canary', 'healthy' as AppMode, 'promoted', { stable: 0, canary: 100 }],
    ['reverts a crashing one', 'crash' as AppMode, 'reverted', { stable: 100, canary: 0 }],
  ])('%s', async (_name, mode, result, weights) => {
    const { stable, canary, prometheus } = await apps(mode);
    const haproxy = await startHaproxy(stable.address, canary.address);
    // As a runner that died mid-ramp would have left it: 100 to 30, the canary on 23%.
    await haproxyCommand(haproxy.socket, 'set weight app/canary 30');
    const load = new LoadGenerator(`${haproxy.url}/`, 100);
    load.start();
    const step = await runStep('canary', 'main', {
      inputs: {
        steps: '10%:4s, 50%:4s, 100%',
        interval: '2s',
        router: stringify({ type: 'haproxy', socket: haproxy.socket, backend: 'app', stable: 'stable', canary: 'canary' }),
        metrics: stringify({ type: 'prometheus', address: prometheus.url }),
        gate: stringify(versionGate),
      },
    });
    const decidedAt = performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const samples = await load.stop();
    const finalWeights = await haproxy.weights();
    await haproxy.stop();
    expect(step.warnings[0]).toBe('An earlier run left the canary at 23%: putting all traffic on stable before starting.');
    expect(step.outputs.result).toBe(result);
    expect(finalWeights).toEqual(weights);
    const stats = trafficStats(samples);
    expect(stats.routingFailures).toBe(0);
    const after = trafficStats(samples.filter((s) => s.at > decidedAt + 100));
    expect(Object.keys(after.byVersion)).toEqual([result === 'promoted' ? 'canary' : 'stable']);
  });
});

describe('canary through a user command', () => {
  it('hands each weight to the command as an argument and in its environment', async () => {
    const { prometheus } = await apps('healthy');
    const log = join(await mkdtemp(join(tmpdir(), 'shipgate-command-')), 'weights');
    const script = `require('fs').appendFileSync(${JSON.stringify(log)}, process.argv[1] + '/' + process.argv[2] + ' env=' + process.env.SHIPGATE_CANARY_WEIGHT + '\\n')`;
    const step = await runStep('canary', 'main', {
      inputs: {
        steps: '10%:2s, 50%:2s, 100%',
        interval: '1s',
        router: stringify({ type: 'command', command: [process.execPath, '-e', script, '{weight}', '{stable-weight}'] }),
        metrics: stringify({ type: 'prometheus', address: prometheus.url }),
        gate: stringify([{ name: 'scraped', query: 'sum(up)', min: 1 }]),
      },
    });
    expect(step.outputs.result).toBe('promoted');
    expect(await readFile(log, 'utf8')).toBe('10/90 env=10\n50/50 env=50\n100/0 env=100\n');
  });
});
