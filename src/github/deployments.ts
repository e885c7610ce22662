import type { GitHubClient } from './client.ts';
import { withPermission } from './client.ts';
import type { RunContext } from './context.ts';

export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';
export type Slot = 'blue' | 'green';

/** What Shipgate keeps in a deployment's `payload`: enough to put any earlier version back. */
export interface DeploymentPayload {
  artifact: string;
  /** The artifact that was live when this deployment started; null for the first. */
  previous: string | null;
  /** Blue-green: the slot this artifact was put on. */
  slot?: Slot;
  /** Set on the deployments `revert` makes. */
  revert?: { from: string | null; reason: string };
}

export interface DeploymentRecord {
  id: number;
  environment: string;
  productionEnvironment: boolean;
  createdAt: string;
  payload: DeploymentPayload;
  /** Its status history, newest first (GitHub's order). */
  states: DeploymentState[];
}

export interface NewDeployment {
  environment: string;
  payload: DeploymentPayload;
  description: string;
  production?: boolean | undefined;
  transient: boolean;
}

const WRITE = 'deployments: write';

/** Statuses carry at most 140 characters of description. */
const short = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

function parsePayload(raw: unknown): DeploymentPayload | undefined {
  const value =
    typeof raw === 'string'
      ? (() => {
          try {
            return JSON.parse(raw) as unknown;
          } catch {
            return undefined;
          }
        })()
      : raw;
  if (!value || typeof value !== 'object' || typeof (value as { artifact?: unknown }).artifact !== 'string') return undefined;
  return value as DeploymentPayload;
}

/** The Deployments API as the actions use it: one environment's records and their status history. */
export class Deployments {
  private readonly octokit: GitHubClient;
  private readonly context: RunContext;

  constructor(octokit: GitHubClient, context: RunContext) {
    this.octokit = octokit;
    this.context = context;
  }

  private get repo() {
    return { owner: this.context.owner, repo: this.context.repo };
  }

  /**
   * Records a deployment of this run's commit. `required_contexts: []` because the artifact was
   * built and checked already, and `auto_merge: false` because a deploy must never merge branches.
   */
  async create(deployment: NewDeployment): Promise<number> {
    const response = await withPermission(WRITE, `create a deployment in ${deployment.environment}`, () =>
      this.octokit.rest.repos.createDeployment({
        ...this.repo,
        ref: this.context.sha,
        environment: deployment.environment,
        payload: { ...deployment.payload },
        description: short(deployment.description),
        required_contexts: [],
        auto_merge: false,
        transient_environment: deployment.transient,
        ...(deployment.production === undefined ? {} : { production_environment: deployment.production }),
      }),
    );
    if (response.status !== 201 || !('id' in response.data)) {
      throw new Error(
        `GitHub did not create the deployment (${response.status}: ${'message' in response.data ? response.data.message : 'no id'})`,
      );
    }
    return response.data.id;
  }

  /**
   * Posts a status with the run as its log. `auto_inactive` is off: GitHub's own skips production
   * deployments, so `retireEarlier` does it for every environment alike.
   */
  async setStatus(id: number, state: DeploymentState, description: string, environmentUrl?: string): Promise<void> {
    await withPermission(WRITE, `set deployment ${id} to ${state}`, () =>
      this.octokit.rest.repos.createDeploymentStatus({
        ...this.repo,
        deployment_id: id,
        state,
        description: short(description),
        log_url: this.context.runUrl,
        auto_inactive: false,
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
      }),
    );
  }

  /** The environment's Shipgate deployments, newest first, each with its status history. */
  async history(environment: string, limit = 50): Promise<DeploymentRecord[]> {
    const records: DeploymentRecord[] = [];
    const pages = this.octokit.paginate.iterator(this.octokit.rest.repos.listDeployments, { ...this.repo, environment, per_page: 30 });
    // Reading needs only read access, but every caller goes on to write: name what the job needs.
    await withPermission(WRITE, `list the deployments of ${environment}`, async () => {
      for await (const page of pages) {
        for (const deployment of page.data) {
          const payload = parsePayload(deployment.payload);
          if (!payload) continue; // not made by Shipgate: nothing we could put back
          const statuses = await this.octokit.paginate(this.octokit.rest.repos.listDeploymentStatuses, {
            ...this.repo,
            deployment_id: deployment.id,
            per_page: 100,
          });
          records.push({
            id: deployment.id,
            environment: deployment.environment,
            productionEnvironment: deployment.production_environment ?? false,
            createdAt: deployment.created_at,
            payload,
            states: statuses.map((s) => s.state),
          });
          if (records.length >= limit) return;
        }
      }
    });
    return records;
  }

  /** Marks every other deployment whose latest status is `success` as `inactive`. */
  async retireEarlier(history: readonly DeploymentRecord[], keep: number): Promise<number[]> {
    const retired = history.filter((d) => d.id !== keep && d.states[0] === 'success').map((d) => d.id);
    for (const id of retired) await this.setStatus(id, 'inactive', `Superseded by deployment ${keep}`);
    return retired;
  }
}
