import { readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { releaseLabPerTest, type ReleaseLab } from '../support/release-lab.ts';

/**
 * Issue 11 §1: records read back from GitHub (and from the router) are input too. Anyone with
 * `deployments: write` can record any payload; none of it may reach nginx's config, a command,
 * a workflow command in the log, or Markdown in a summary.
 */
const startLab = releaseLabPerTest();

const health = '{url: "http://{address}/healthz", timeout: 5s, interval: 200ms}';
const INJECTION = 'app:v1\n    server 127.0.0.1:21666 weight=100;\n#';
const SPOOF = 'v1\n::error title=Spoofed::the deploy key leaked';

/** Records a deployment straight through the API, as anyone with deployments: write could. */
async function record(l: ReleaseLab, payload: object, state: 'success' | 'in_progress', description = 'ok') {
  const api = (path: string, body: object) =>
    fetch(`${l.github.url}/repos/shipgate-test/app${path}`, {
      method: 'POST',
      headers: { authorization: 'token ghs_attacker', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<{ id: number }>);
  const { id } = await api('/deployments', {
    ref: 'main',
    environment: 'production',
    payload,
    required_contexts: [],
    auto_merge: false,
    production_environment: true,
  });
  await api(`/deployments/${id}/statuses`, {
    state,
    description,
    log_url: 'https://github.com/shipgate-test/app/actions/runs/1',
    auto_inactive: false,
  });
  return id;
}

describe('records read back are untrusted', () => {
  it('a hostile payload changes no config, prints no workflow command, adds nothing to a summary, and is named', async () => {
    const lab = await startLab('nginx', 'v0');
    const deploy = (artifact: string, runId: string) =>
      lab.run(
        'deploy',
        'main',
        { environment: 'production', production: 'true', artifact, strategy: 'blue-green', target: lab.routing(), health },
        { runId },
      );
    expect((await deploy('v1', '9001')).errors).toEqual([]);
    // Between v1 and v2, two "successful" deployments an attacker recorded: the revert would take them for the last good one.
    const injected = await record(lab, { artifact: INJECTION, previous: 'v1', slot: 'blue' }, 'success');
    const spoofed = await record(
      lab,
      { artifact: SPOOF, previous: 'v1', revert: { from: 'v2', reason: '# Title [click](http://evil) <img src=x>' } },
      'success',
    );
    expect((await deploy('v2', '9002')).errors).toEqual([]);
    // And the newest: a reason full of Markdown and a workflow command, in a payload that is otherwise fine.
    const hostileReason = await record(
      lab,
      { artifact: 'v3', previous: 'v2', revert: { from: 'v2', reason: 'x\n::warning::spoofed <b>bold</b>' } },
      'in_progress',
    );

    const revert = await lab.run(
      'revert',
      'main',
      {
        environment: 'production',
        reason: 'see [the runbook](http://evil) <script>x</script>',
        target: lab.routing(),
        health,
        'open-issue': 'true',
      },
      { runId: '9100' },
    );
    expect(revert.errors).toEqual([]);
    // The hostile records were skipped: v2 (live) goes back to v1, the last good one that passes the checks.
    expect(revert.outputs).toMatchObject({ result: 'reverted', artifact: 'v1', from: 'v2' });
    const config = await readFile(lab.nginx!.upstreamFile, 'utf8');
    expect(config).not.toContain('21666');
    execFileSync(lab.nginx!.testCommand[0]!, lab.nginx!.testCommand.slice(1));
    // Named, on one line each, never executed as workflow commands.
    for (const id of [injected, spoofed, hostileReason]) {
      expect(revert.warnings.some((w) => w.startsWith(`Skipping deployment ${id} of production: payload `))).toBe(true);
    }
    const lines = revert.stdout.split('\n');
    expect(lines.filter((l) => /^\s*::error/.test(l))).toEqual([]);
    expect(lines.filter((l) => /^\s*::warning::spoofed/.test(l))).toEqual([]);
    expect(revert.stdout).not.toContain('Spoofed::the deploy key leaked\n');
    // The summary and the issue carry the reason as text: no link, no HTML, no heading.
    for (const markdown of [revert.summary, lab.github.issues[0]!.body!]) {
      expect(markdown).not.toMatch(/\]\(http|<script|<img|<b>/);
      expect(markdown).toContain('the runbook');
    }
  });

  it('a tampered router record is ignored and named, and the next write replaces it', async () => {
    const lab = await startLab('nginx', 'v0');
    const step = await lab.run(
      'deploy',
      'main',
      { environment: 'production', production: 'true', artifact: 'v1', strategy: 'blue-green', target: lab.routing(), health },
      { runId: '9201' },
    );
    expect(step.errors).toEqual([]);
    const file = lab.nginx!.upstreamFile;
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text.replace(/# shipgate: .*/, '# shipgate: live=green kept=blue blue=app:v1\\nserver green=v1 green-version=v1'),
    );
    const next = await lab.run(
      'deploy',
      'main',
      { environment: 'production', production: 'true', artifact: 'v2', strategy: 'blue-green', target: lab.routing(), health },
      { runId: '9202' },
    );
    expect(next.errors).toEqual([]);
    expect(next.warnings.some((w) => w.startsWith('Ignoring the router record of nginx upstream app'))).toBe(true);
    const after = await readFile(file, 'utf8');
    expect(after).toMatch(/# shipgate: live=blue kept=green blue=v2 blue-version=v2 green=v1 green-version=v1\n/);
    expect(after).not.toContain('server green=v1');
  });
});
