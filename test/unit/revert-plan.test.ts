import { describe, expect, it } from 'vitest';
import { artifactOnSlot, lastGoodBefore, liveDeployment, wasGood } from '../../src/deploy/history.ts';
import type { DeploymentPayload, DeploymentRecord, DeploymentState } from '../../src/github/deployments.ts';
import { planRevert } from '../../src/revert/plan.ts';

let id = 1;
const record = (artifact: string, states: DeploymentState[], extra: Partial<DeploymentPayload> = {}): DeploymentRecord => ({
  id: id++,
  environment: 'production',
  productionEnvironment: true,
  createdAt: '2025-01-01T00:00:00Z',
  payload: { artifact, previous: null, ...extra },
  states,
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
});

describe('planRevert', () => {
  it('reverts the newest deployment to the newest earlier success with another artifact', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2again = record('v2', ['inactive', 'success']);
    const v2 = record('v2', ['success']);
    expect(planRevert([v2, v2again, v1], 'last-success', 'production')).toMatchObject({
      kind: 'revert',
      bad: v2,
      artifact: 'v1',
      good: v1,
    });
  });

  it('skips deployments a revert marked failure, and takes a stale in-progress one as the bad one', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2 = record('v2', ['failure', 'success']);
    const v3 = record('v3', ['in_progress']);
    expect(planRevert([v3, v2, v1], 'last-success', 'production')).toMatchObject({ kind: 'revert', bad: v3, artifact: 'v1' });
  });

  it('changes nothing when the newest deployment is a successful revert', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2 = record('v2', ['failure', 'success']);
    const back = record('v1', ['success'], { revert: { from: 'v2', reason: 'alert' } });
    expect(planRevert([back, v2, v1], 'last-success', 'production')).toMatchObject({ kind: 'unchanged', artifact: 'v1' });
  });

  it('says why it cannot revert with no earlier success or no deployments', () => {
    expect(planRevert([record('v1', ['success'])], 'last-success', 'production')).toMatchObject({ kind: 'impossible' });
    expect(planRevert([], 'last-success', 'production')).toMatchObject({
      kind: 'impossible',
      why: expect.stringContaining('no Shipgate deployments'),
    });
  });

  it('goes to an explicit artifact, or changes nothing if it is already live', () => {
    const v1 = record('v1', ['inactive', 'success']);
    const v2 = record('v2', ['success']);
    expect(planRevert([v2, v1], 'v1', 'production')).toMatchObject({ kind: 'revert', bad: v2, artifact: 'v1', good: v1 });
    expect(planRevert([v2, v1], 'v2', 'production')).toMatchObject({ kind: 'unchanged' });
  });
});
