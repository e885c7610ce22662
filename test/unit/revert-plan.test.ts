import { describe, expect, it } from 'vitest';
import { artifactOnSlot, lastGoodBefore, liveDeployment, unrecordedLive, wasGood } from '../../src/deploy/history.ts';
import type { DeploymentPayload, DeploymentRecord, DeploymentState } from '../../src/github/deployments.ts';
import { parsePayload } from '../../src/github/payload.ts';
import { planRevert, type RevertAsk } from '../../src/revert/plan.ts';

let id = 1;
const record = (
  artifact: string,
  states: DeploymentState[],
  extra: Partial<DeploymentPayload> = {},
  more: Partial<DeploymentRecord> = {},
): DeploymentRecord => ({
  id: id++,
  environment: 'production',
  productionEnvironment: true,
  createdAt: '2025-01-01T00:00:00Z',
  payload: { artifact, version: artifact, previous: null, run: '100', ...extra },
  states,
  ...more,
});
const ask = (extra: Partial<RevertAsk> = {}): RevertAsk => ({
  to: 'last-success',
  environment: 'production',
  runId: '200',
  request: '200',
  ...extra,
});

describe('deployment history', () => {
  it('reads "was good" from the whole status history, not the latest state', () => {
    expect(wasGood(record('v1', ['inactive', 'success', 'in_progress']))).toBe(true);
    expect(wasGood(record('v1', ['failure', 'success', 'in_progress']))).toBe(false);
    expect(wasGood(record('v1', ['in_progress']))).toBe(false);
  });

  it('finds the live deployment, the last good before one, and what a slot holds', () => {
    const v1 = record('v1', ['inactive', 'success'], { slot: 'green' });
    const v2 = record('v2', ['success'], { slot: 'blue' });
    const v3 = record('v3', ['failure'], { slot: 'green' });
    const history = [v3, v2, v1];
    expect(liveDeployment(history)).toBe(v2);
    expect(lastGoodBefore(history, v2)).toBe(v1);
    expect(artifactOnSlot(history, 'green')).toBe('v3');
    expect(artifactOnSlot(history, 'blue')).toBe('v2');
  });

  it('names the release the router shows live that GitHub never heard succeed', () => {
    const v2 = record('v2', ['success'], { slot: 'blue' });
    const v3 = record('v3', ['in_progress'], { slot: 'green' });
    const view = { share: { blue: 0, green: 100 }, addresses: { blue: [], green: [] }, split: false, live: 'green' as const };
    expect(unrecordedLive([v3, v2], { ...view, record: { live: 'green', slots: { green: { artifact: 'v3', version: 'v3' } } } })).toBe(v3);
    expect(unrecordedLive([v3, v2], view)).toBeUndefined();
  });
});

describe('payloads read back', () => {
  it('takes only what passes the input patterns', () => {
    expect(parsePayload({ artifact: 'app:v1', previous: null })).toEqual({
      payload: { artifact: 'app:v1', version: 'v1', previous: null },
    });
    expect(parsePayload({ artifact: 'app:v1\n    server 127.0.0.1:21666 weight=100;\n#', previous: null })).toHaveProperty('problem');
    expect(parsePayload({ artifact: 'v1', previous: null, revert: { from: 'v2', reason: 'x\n::error title=Spoofed::y' } })).toHaveProperty(
      'problem',
    );
    expect(parsePayload({ artifact: 'v1', slot: 'purple' })).toHaveProperty('problem');
    expect(parsePayload('{not json')).toHaveProperty('problem');
  });
});

describe('planRevert', () => {
  it('reverts the newest deployment to the newest earlier success with another artifact', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2again = record('v2', ['inactive', 'success']);
    const v2 = record('v2', ['success']);
    expect(planRevert([v2, v2again, v1], ask())).toMatchObject({ kind: 'revert', bad: v2, good: { artifact: 'v1' } });
  });

  it('skips deployments a revert marked failure, and takes a stale in-progress one as the bad one', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2 = record('v2', ['failure', 'success']);
    const v3 = record('v3', ['in_progress']);
    expect(planRevert([v3, v2, v1], ask())).toMatchObject({ kind: 'revert', bad: v3, good: { artifact: 'v1' } });
  });

  it('the same request again changes nothing; a new one goes one release further back and keeps its reason', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2 = record('v2', ['inactive', 'success']);
    const v3 = record('v3', ['failure', 'success']);
    const back = record('v2', ['success'], { revert: { from: 'v3', reason: 'alert', run: '200' } });
    const history = [back, v3, v2, v1];
    expect(planRevert(history, ask())).toMatchObject({ kind: 'unchanged', release: { artifact: 'v2' } });
    expect(planRevert(history, ask({ runId: '300', request: '300' }))).toMatchObject({
      kind: 'revert',
      bad: back,
      good: { artifact: 'v1' },
    });
    expect(planRevert([back, v3, v2], ask({ runId: '300', request: '300' }))).toMatchObject({
      kind: 'impossible',
      why: expect.stringContaining('no successful deployment before v2'),
    });
  });

  it('after an automatic revert (the newest failed), a new request reverts the release live now; the run that deployed it reverts that one', () => {
    const v2 = record('v2', ['inactive', 'success']);
    const v3 = record('v3', ['success']);
    const v4 = record('v4', ['failure', 'in_progress'], { run: '500' });
    expect(planRevert([v4, v3, v2], ask({ runId: '500', request: '500' }))).toMatchObject({
      kind: 'revert',
      bad: v4,
      good: { artifact: 'v3' },
    });
    expect(planRevert([v4, v3, v2], ask())).toMatchObject({ kind: 'revert', bad: v3, good: { artifact: 'v2' } });
  });

  it('a re-run after its first write failed the release still reverts that release, and finishes its own unfinished record', () => {
    const v2 = record('v2', ['inactive', 'success']);
    const v3 = record('v3', ['failure', 'success'], {}, { failedBy: '200' });
    expect(planRevert([v3, v2], ask())).toMatchObject({ kind: 'revert', bad: v3, good: { artifact: 'v2' } });
    const mine = record('v2', ['in_progress'], { revert: { from: 'v3', reason: 'alert', run: '200' } });
    expect(planRevert([mine, v3, v2], ask())).toMatchObject({ kind: 'revert', bad: v3, resume: mine });
    // Another request's unfinished revert was killed: it is skipped, not taken for a release; v2 is what is live now.
    expect(planRevert([mine, v3, v2], ask({ runId: '300', request: '300' }))).toMatchObject({
      kind: 'impossible',
      why: expect.stringContaining('before v2'),
    });
  });

  it('says why it cannot revert with no earlier success or no deployments', () => {
    expect(planRevert([record('v1', ['success'])], ask())).toMatchObject({ kind: 'impossible' });
    expect(planRevert([], ask())).toMatchObject({ kind: 'impossible', why: expect.stringContaining('no Shipgate deployments') });
  });

  it('goes to an explicit release, or changes nothing if it is already live', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2 = record('v2', ['success']);
    const to = (artifact: string) => ({ artifact, version: artifact });
    expect(planRevert([v2, v1], ask({ to: to('v1') }))).toMatchObject({ kind: 'revert', bad: v2, good: { artifact: 'v1' } });
    expect(planRevert([v2, v1], ask({ to: to('v2') }))).toMatchObject({ kind: 'unchanged' });
  });
});
