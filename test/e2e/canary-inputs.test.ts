import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runStep } from '../support/runner.ts';

/**
 * Bad input, run as a runner runs the bundle: one ::error:: naming the input with an example,
 * a failing exit within seconds, the router's file byte-identical and no command executed.
 */
const ORIGINAL = 'upstream app {\n    server 127.0.0.1:8081;\n    keepalive 8;\n}\n';
const dir = mkdtempSync(join(tmpdir(), 'shipgate-inputs-'));
const upstreamFile = join(dir, 'upstream.conf');
const marker = join(dir, 'executed');
writeFileSync(upstreamFile, ORIGINAL);

function router(overrides: Record<string, unknown> = {}) {
  const touch = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`];
  return stringify({
    type: 'nginx',
    'config-file': upstreamFile,
    upstream: 'app',
    stable: '127.0.0.1:8081',
    canary: '127.0.0.1:8082',
    'reload-command': touch,
    'test-command': touch,
    ...overrides,
  });
}

const valid = () => ({
  steps: '10%:1m, 50%:1m, 100%',
  interval: '2s',
  router: router(),
  metrics: 'type: prometheus\naddress: http://127.0.0.1:1\n',
  gate: stringify([{ name: 'error-rate', query: 'sum(rate(x[1m]))', max: 0.01 }]),
});

const cases: Array<[string, Record<string, string>, string, RegExp]> = [
  ['a weight over 100', { steps: '5%:1m, 120%:1m, 100%' }, 'steps', /120% must be above 0% and at most 100%/],
  ['weights not increasing', { steps: '50%:1m, 25%:1m, 100%' }, 'steps', /weights must increase/],
  ['a negative hold', { steps: '10%:-5m, 100%' }, 'steps', /not a positive duration/],
  ['a garbage hold', { steps: '10%:soon, 100%' }, 'steps', /not a positive duration/],
  ['no final 100%', { steps: '10%:1m, 50%:1m' }, 'steps', /must end with 100%/],
  ['a zero interval', { interval: '0s' }, 'interval', /not a positive duration/],
  ['an unknown router type', { router: 'type: traefik\n' }, 'router', /type must be nginx, haproxy or command/],
  ['an unknown metrics type', { metrics: 'type: datadog\n' }, 'metrics', /type must be prometheus/],
  ['YAML that does not parse', { router: 'type: nginx\nupstream: [app\n' }, 'router', /not valid YAML/],
  ['a missing canary', { router: router({ canary: undefined }) }, 'router', /canary/],
  ['an upstream that would inject config', { router: router({ upstream: 'app { } server evil' }) }, 'router', /upstream must be letters/],
  [
    'a server that would inject config',
    { router: router({ stable: '127.0.0.1:8081; include /etc/passwd' }) },
    'router',
    /stable: must be host:port/,
  ],
  ['a non-number bound', { gate: stringify([{ name: 'e', query: 'up', max: 'high' }]) }, 'gate', /max must be a number/],
  ['a rule with no bound', { gate: stringify([{ name: 'e', query: 'up' }]) }, 'gate', /give max, min or both/],
  ['a gate that is not a list', { gate: 'name: e\nquery: up\nmax: 1\n' }, 'gate', /must be a YAML list/],
  ['a non-URL address', { metrics: 'type: prometheus\naddress: prometheus:9090\n' }, 'metrics', /must be an http\(s\) URL/],
  ['a reload command with shell syntax', { router: router({ 'reload-command': 'nginx -s reload; rm -rf /' }) }, 'router', /shell syntax/],
  ['a reload command with a substitution', { router: router({ 'reload-command': 'nginx -s $(reboot)' }) }, 'router', /shell syntax/],
  ['a missing config file', { router: router({ 'config-file': '/nonexistent/upstream.conf' }) }, 'router', /cannot read config-file/],
  ['a config file without the upstream', { router: router({ upstream: 'other' }) }, 'router', /holds no "upstream other/],
  ['an unknown rule field', { gate: stringify([{ name: 'e', query: 'up', max: 1, maximum: 2 }]) }, 'gate', /maximum/],
  ['a non-boolean flag', { 'fail-on-revert': 'maybe' }, 'fail-on-revert', /not true or false/],
  ['an unknown inconclusive policy', { inconclusive: 'promote' }, 'inconclusive', /"promote" is not extend or revert/],
  ['a max-extension that is not a duration', { 'max-extension': 'forever' }, 'max-extension', /not a positive duration/],
  [
    'a placeholder that does not exist',
    { gate: stringify([{ name: 'e', query: 'sum(up{instance=~"{canary-instance}"})', max: 1 }]) },
    'gate',
    /e: query: \{canary-instance\} is not a placeholder/,
  ],
  [
    'a slot placeholder without slots',
    { gate: stringify([{ name: 'e', query: 'sum(up{slot="{canary-slot}"})', max: 1 }]) },
    'gate',
    /needs a router with blue and green slots/,
  ],
  [
    'instances a router cannot name',
    {
      router: 'type: command\ncommand: [/bin/true, "{weight}"]\n',
      gate: stringify([{ name: 'e', query: 'sum(up{instance=~"{canary-instances}"})', max: 1 }]),
    },
    'gate',
    /need a router that knows its servers' addresses/,
  ],
  [
    'a comparison over rates instead of counters',
    {
      gate: stringify([
        { name: 'vs', query: 'sum(rate(e[1m]))', 'total-query': 'sum(t)', 'baseline-query': 'sum(e)', 'baseline-total-query': 'sum(t)' },
      ]),
    },
    'gate',
    /vs: query: must be sum\(<selector>\) of a cumulative counter/,
  ],
  [
    'a latency rule without its quantile bounds',
    { gate: stringify([{ name: 'l', query: 'sum by (le) (h)', 'baseline-query': 'sum by (le) (h)', quantile: 5 }]) },
    'gate',
    /quantile must be below 1/,
  ],
];

describe('canary input validation (bundle run as a process)', () => {
  // Read from the router itself, so found once the step runs: refused, with outputs that say so.
  const foundAtTheRouter = new Set(['a missing config file', 'a config file without the upstream']);
  it.each(cases)('rejects %s', async (name, overrides, input, problem) => {
    const step = await runStep('canary', 'main', { inputs: { ...valid(), ...overrides } });
    expect(step.code).not.toBe(0);
    expect(step.errors).toHaveLength(1);
    expect(step.errors[0]).toMatch(new RegExp(`^Input "${input}": `));
    expect(step.errors[0]).toMatch(problem);
    expect(step.errors[0]).toContain('Example: ');
    expect(step.durationMs).toBeLessThan(5000);
    expect(await readFile(upstreamFile, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(marker)).toBe(false);
    expect(step.outputs).toEqual(foundAtTheRouter.has(name) ? { result: 'refused', reason: step.errors[0], 'final-weight': '0' } : {});
    // Nothing for the post step to undo.
    expect(step.state).toEqual({});
  });
});
