import type { DeploymentRecord, DeploymentState, NewDeployment } from '../../src/github/deployments.ts';
import type { DeploymentsApi } from '../../src/deploy/rollout.ts';
import { payloadSchema } from '../../src/github/payload.ts';

/** The Deployments API in memory, newest first, with a switch to fail chosen calls. */
export class FakeGitHub implements DeploymentsApi {
  readonly records: DeploymentRecord[] = [];
  readonly calls: string[] = [];
  /** Called before every call; throw from it to fail that call. */
  fail: (call: string) => void = () => {};
  private nextId = 1;

  seed(artifact: string, states: DeploymentState[], extra: Record<string, unknown> = {}): DeploymentRecord {
    const record: DeploymentRecord = {
      id: this.nextId++,
      environment: 'production',
      productionEnvironment: true,
      createdAt: '',
      payload: payloadSchema.parse({ artifact, previous: null, ...extra }),
      states,
    };
    this.records.unshift(record);
    return record;
  }

  async history(): Promise<DeploymentRecord[]> {
    this.fail('history');
    this.calls.push('history');
    return this.records.map((r) => ({ ...r, states: [...r.states] }));
  }

  async create(deployment: NewDeployment): Promise<number> {
    this.fail('create');
    const record = this.seed(deployment.payload.artifact, [], deployment.payload);
    this.calls.push(`create ${record.id} ${deployment.payload.version}`);
    return record.id;
  }

  async setStatus(id: number, state: DeploymentState, description: string): Promise<void> {
    this.fail(`${state} ${id}`);
    this.records.find((r) => r.id === id)!.states.unshift(state);
    this.calls.push(`${state} ${id}: ${description}`);
  }

  async retireEarlier(history: readonly DeploymentRecord[], keep: number): Promise<number[]> {
    const retired = history.filter((d) => d.id !== keep && d.states[0] === 'success').map((d) => d.id);
    for (const id of retired) await this.setStatus(id, 'inactive', `Superseded by deployment ${keep}`);
    return retired;
  }
}
