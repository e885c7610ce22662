// `npm run demo`: two real canaries on this machine. nginx routes steady load between a stable
// and a canary app process, Prometheus scrapes both every second, and the bundled canary action
// (dist/canary/main) ramps traffic, printing each gate reading and its decision.
// Needs nginx and Prometheus: `scripts/install-packages demo` installs them on Debian or Ubuntu.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPrograms } from '../test/support/programs.ts';
import { type AppMode, stopAll } from '../test/support/services.ts';
import { startLab } from '../test/support/canary-lab.ts';
import { trafficStats } from '../test/support/load.ts';
import { runStep } from '../test/support/runner.ts';

async function demo(title: string, canary: AppMode, options: { canaryErrorRate?: number } = {}) {
  console.log(`\n=== ${title} ===`);
  const lab = await startLab({ canary, ...options, rps: 100 });
  try {
    lab.load.start();
    const step = await runStep('canary', 'main', {
      inputs: lab.inputs({ steps: '10%:8s, 50%:8s, 100%' }),
      onStdout: (chunk) =>
        process.stdout.write(
          chunk
            // As a runner shows the log: masks, debug lines and the stop-commands markers are not printed.
            .replace(/^::(add-mask|debug|stop-commands)::.*\n/gm, '')
            .replace(/^::[0-9a-f]{32}::\n/gm, '')
            .replace(/^::(group|endgroup)::/gm, '')
            .replace(/^::(warning|error)::/gm, '$1: ')
            .replace(/%25/g, '%'),
        ),
    });
    await new Promise((r) => setTimeout(r, 1000));
    const stats = trafficStats(await lab.load.stop());
    console.log(`\nresult=${step.outputs.result} final-weight=${step.outputs['final-weight']}`);
    console.log(`reason: ${step.outputs.reason}`);
    console.log(
      `traffic: ${stats.total} requests, stable ${stats.byVersion.stable ?? 0}, canary ${stats.byVersion.canary ?? 0}, ` +
        `5xx from the apps ${stats.appErrors}, failed by routing ${stats.routingFailures}`,
    );
    console.log(`nginx now routes to: ${(await lab.upstreamServers()).join(', ')}`);
  } finally {
    await lab.stop();
  }
}

const missing = missingPrograms(['nginx', 'prometheus'], 'scripts/install-packages demo');
if (missing) {
  console.error(`npm run demo: ${missing}`);
  process.exit(1);
}
// nginx prefixes, Prometheus data and the runner's files live here, and go when the demo ends.
const scratch = await mkdtemp(join(tmpdir(), 'shipgate-demo-'));
process.env.TMPDIR = scratch;
try {
  await demo('A healthy canary: ramped 10% → 50% → 100% and promoted', 'healthy');
  await demo('A canary failing 6% of requests: reverted as soon as the gate sees it', 'errors', { canaryErrorRate: 0.06 });
} finally {
  await stopAll();
  await rm(scratch, { recursive: true, force: true });
}
