import type { Logger } from '../core/logger.ts';
import { withPermission, type GitHubClient } from './client.ts';
import type { RunContext } from './context.ts';
import { looksLikeShipgate, parsePayload, type DeploymentPayload, type NewPayload } from './payload.ts';

export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';
export type { DeploymentPayload } from './payload.ts';

export interface DeploymentRecord {
  id: number;
  environment: string;
  productionEnvironment: boolean;
  createdAt: string;
  payload: DeploymentPayload;
  /** Its status history, newest first (GitHub's order). */
  states: DeploymentState[];
  /** The revert request whose first write marked it failure, when one did. */
  failedBy?: string;
}

/** How a revert names itself in the failure status it puts on the release it reverts. */
export const revertedBy = (request: string) => `Reverted (request ${request})`;
const REVERTED_BY = /^Reverted \(request ([A-Za-z0-9][A-Za-z0-9_.:-]{0,99})\)/;

export interface NewDeployment {
  environment: string;
  payload: NewPayload;
  description: string;
  production?: boolean | undefined;
  transient: boolean;
}

/** Per-call options: a deadline, so no GitHub call outlives what the step can afford. */
export interface CallOptions {
  signal?: AbortSignal;
}

const WRITE = 'deployments: write';

/** Statuses carry at most 140 characters of description. */
export const short = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

/**
 * The Deployments API as the actions use it: one environment's records and their status history.
 * Octokit's own retries are off for these calls: callers decide what to wait for (traffic never does).
 */
export class Deployments {
  private readonly octokit: GitHubClient;
  private readonly context: RunContext;
  private readonly logger: Logger;

  constructor(octokit: GitHubClient, context: RunContext, logger: Logger) {
    this.octokit = octokit;
    this.context = context;
    this.logger = logger;
  }

  private get repo() {
    return { owner: this.context.owner, repo: this.context.repo };
  }

  /**
   * The client's per-request deadline bounds every call (a GET gets one more try, naming the call
   * when it fails); a caller may cut it shorter.
   */
  private request(options: CallOptions) {
    // `retries` is @octokit/plugin-retry's per-request switch; Octokit's types do not know it.
    return { request: { retries: 0, ...(options.signal ? { signal: options.signal } : {}) } as { signal?: AbortSignal } };
  }

  /**
   * Records a deployment of this run's commit. `required_contexts: []` because the artifact was
   * built and checked already, and `auto_merge: false` because a deploy must never merge branches.
   */
  async create(deployment: NewDeployment, options: CallOptions = {}): Promise<number> {
    const response = await withPermission(WRITE, `create a deployment in ${deployment.environment}`, async () =>
      (await this.octokit()).rest.repos.createDeployment({
        ...this.repo,
        ref: this.context.sha,
        environment: deployment.environment,
        payload: { ...deployment.payload },
        description: short(deployment.description),
        required_contexts: [],
        auto_merge: false,
        transient_environment: deployment.transient,
        ...(deployment.production === undefined ? {} : { production_environment: deployment.production }),
        ...this.request(options),
      }),
    );
    if (response.status !== 201 || !('id' in response.data)) {
      throw new Error(`GitHub did not create the deployment (${response.status})`);
    }
    return response.data.id;
  }

  /**
   * Posts a status with the run as its log. `auto_inactive` is off: GitHub's own skips production
   * deployments, so `retireEarlier` does it for every environment alike.
   */
  async setStatus(
    id: number,
    state: DeploymentState,
    description: string,
    environmentUrl?: string,
    options: CallOptions = {},
  ): Promise<void> {
    await withPermission(WRITE, `set deployment ${id} to ${state}`, async () =>
      (await this.octokit()).rest.repos.createDeploymentStatus({
        ...this.repo,
        deployment_id: id,
        state,
        description: short(description),
        log_url: this.context.runUrl,
        auto_inactive: false,
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
        ...this.request(options),
      }),
    );
  }

  /**
   * The environment's Shipgate deployments, newest first, each with its status history. A
   * deployment whose payload fails the checks is skipped and named: it is never put back.
   */
  async history(environment: string, options: CallOptions & { limit?: number } = {}): Promise<DeploymentRecord[]> {
    const limit = options.limit ?? 50;
    const records: DeploymentRecord[] = [];
    // Reading needs only read access, but every caller goes on to write: name what the job needs.
    // Pages by hand: Octokit's paginate drops per-request options, and with them the deadline.
    await withPermission(WRITE, `list the deployments of ${environment}`, async () => {
      const octokit = await this.octokit();
      for (let page = 1; records.length < limit; page++) {
        const { data } = await octokit.rest.repos.listDeployments({
          ...this.repo,
          environment,
          per_page: 30,
          page,
          ...this.request(options),
        });
        for (const deployment of data) {
          const parsed = parsePayload(deployment.payload);
          if ('problem' in parsed) {
            if (looksLikeShipgate(deployment.payload))
              this.logger.warning(`Skipping deployment ${deployment.id} of ${environment}: ${parsed.problem}. It is never put back.`);
            continue;
          }
          // The newest 100 statuses say all a revert needs: whether it ever succeeded, and how it ended.
          const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({
            ...this.repo,
            deployment_id: deployment.id,
            per_page: 100,
            ...this.request(options),
          });
          const failedBy = statuses[0]?.state === 'failure' ? REVERTED_BY.exec(statuses[0].description ?? '')?.[1] : undefined;
          records.push({
            id: deployment.id,
            environment: deployment.environment,
            productionEnvironment: deployment.production_environment ?? false,
            createdAt: deployment.created_at,
            payload: parsed.payload,
            states: statuses.map((s) => s.state),
            ...(failedBy ? { failedBy } : {}),
          });
          if (records.length >= limit) return;
        }
        if (data.length < 30) return;
      }
    });
    return records;
  }

  /** One deployment, its payload checked like every record read back; undefined when it is not Shipgate's. */
  async get(id: number, options: CallOptions = {}): Promise<Omit<DeploymentRecord, 'states'> | undefined> {
    const { data } = await withPermission(WRITE, `read deployment ${id}`, async () =>
      (await this.octokit()).rest.repos.getDeployment({ ...this.repo, deployment_id: id, ...this.request(options) }),
    );
    const parsed = parsePayload(data.payload);
    if ('problem' in parsed) {
      this.logger.warning(`Deployment ${id} is not usable: ${parsed.problem}.`);
      return undefined;
    }
    return {
      id: data.id,
      environment: data.environment,
      productionEnvironment: data.production_environment ?? false,
      createdAt: data.created_at,
      payload: parsed.payload,
    };
  }

  /** Marks every other deployment whose latest status is `success` as `inactive`. */
  async retireEarlier(history: readonly DeploymentRecord[], keep: number, options: CallOptions = {}): Promise<number[]> {
    const retired = history.filter((d) => d.id !== keep && d.states[0] === 'success').map((d) => d.id);
    for (const id of retired) await this.setStatus(id, 'inactive', `Superseded by deployment ${keep}`, undefined, options);
    return retired;
  }
}
