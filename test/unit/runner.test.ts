import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as core from '../../src/core/runner.ts';
import { parseFileCommands } from '../support/runner.ts';

let dir: string;
const saved = { ...process.env };
let written: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shipgate-runner-'));
  for (const name of ['output', 'state', 'summary']) await writeFile(join(dir, name), '');
  Object.assign(process.env, {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    'INPUT_GITHUB-TOKEN': '  ghs_x \n',
    INPUT_FAIL_ON_REVERT: 'true',
    STATE_router: 'type: nginx',
  });
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.env = { ...saved };
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('the runner protocol (src/core/runner.ts), as @actions/core speaks it', () => {
  it('reads inputs as the runner names them, trimmed, and state', () => {
    expect(core.getInput('github-token')).toBe('ghs_x');
    expect(core.getInput('github-token', { trimWhitespace: false })).toBe('  ghs_x \n');
    expect(core.getInput('fail on revert')).toBe('true');
    expect(core.getInput('missing')).toBe('');
    expect(() => core.getInput('missing', { required: true })).toThrow('Input required and not supplied: missing');
    expect(core.getState('router')).toBe('type: nginx');
  });

  it('writes outputs and state as heredocs the runner reads back whole, newlines and all', async () => {
    core.setOutput('reason', 'line one\nline two: "quoted"');
    core.setOutput('report', { weight: 5 });
    core.saveState('settled', true);
    expect(parseFileCommands(await readFile(join(dir, 'output'), 'utf8'))).toEqual({
      reason: 'line one\nline two: "quoted"',
      report: '{"weight":5}',
    });
    expect(parseFileCommands(await readFile(join(dir, 'state'), 'utf8'))).toEqual({ settled: 'true' });
  });

  it('escapes command data, so a message cannot end its line and start another command', () => {
    core.warning('50% done\n::error::spoofed');
    core.setSecret('p%ss\nword');
    core.debug('d');
    expect(written).toEqual(['::warning::50%25 done%0A::error::spoofed\n', '::add-mask::p%25ss%0Aword\n', '::debug::d\n']);
  });

  it('closes a group however its work ends, and setFailed fails the step with one error line', async () => {
    await expect(
      core.group('Checking nginx', async () => {
        core.info('inside');
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    core.setFailed('Input "steps": bad');
    expect(written).toEqual(['::group::Checking nginx\n', 'inside\n', '::endgroup::\n', '::error::Input "steps": bad\n']);
    expect(process.exitCode).toBe(1);
  });

  it('appends the job summary', async () => {
    await core.summary.addRaw('### one\n').write();
    await core.summary.addRaw('two', true).write();
    expect(await readFile(join(dir, 'summary'), 'utf8')).toBe('### one\ntwo\n');
  });
});
