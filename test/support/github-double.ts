import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { repoRoot } from './runner.ts';

/**
 * A stateful stand-in for the part of GitHub's REST API the actions use: deployments, deployment
 * statuses and issues. Every request (path, query, body) and every response it serves is checked
 * against GitHub's own OpenAPI description (@octokit/openapi); a mismatch is recorded in
 * `problems`, which every test asserts empty, so the actions cannot drift from the real API.
 * It behaves like GitHub where the actions depend on it: newest first, pagination with Link
 * headers, `auto_inactive` that leaves production deployments alone, 403 for a missing permission.
 */

type Json = Record<string, unknown>;
type OpenApiOperation = {
  operationId: string;
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Json }>;
  requestBody?: { content: { 'application/json': { schema: Json } } };
  responses: Record<string, { content?: { 'application/json'?: { schema: Json } } }>;
};

export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface DoubleDeployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  payload: Json | string;
  description: string | null;
  production_environment: boolean;
  transient_environment: boolean;
  created_at: string;
  updated_at: string;
  /** The request body it was created with, as the action sent it. */
  request: Json;
  /** Oldest first, as they were posted. */
  statuses: Array<{
    id: number;
    state: DeploymentState;
    description: string;
    log_url: string;
    environment_url: string;
    created_at: string;
  }>;
}

export interface DoubleIssue {
  number: number;
  title: string;
  body: string | null;
  labels: string[];
}

export type Permission = 'deployments' | 'issues';

/**
 * A failure the double serves instead of the real answer, shaped as GitHub sends it:
 * 401 "Bad credentials"; 403 "Resource not accessible by integration"; the primary rate limit
 * (403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`); the secondary rate limit (403
 * with `retry-after`); 500 with GitHub's JSON error; 502 with a gateway's HTML page.
 */
export type FaultKind = 401 | 403 | 'rate-limit' | 'secondary-rate-limit' | 500 | 502 | 'slow';

export interface Fault {
  kind: FaultKind;
  /** Only requests with this method, e.g. POST. */
  method?: string;
  /** Only requests whose path (and query) matches. */
  path?: RegExp;
  /** Only requests whose body (as sent) matches, e.g. /"state":"success"/. */
  body?: RegExp;
  /** Let this many matching requests through first. */
  skip?: number;
  /** Serve the fault this many times, then answer normally again (default: always). */
  times?: number;
  /** Seconds until a rate limit resets (default 3600). */
  resetIn?: number;
  /** `slow`: answer normally after this many milliseconds. */
  delayMs?: number;
}

const OWNER = 'shipgate-test';
const REPO = 'app';

let operations: Array<{ method: string; pattern: RegExp; keys: string[]; operation: OpenApiOperation }> | undefined;
const NEEDED = [
  '/repos/{owner}/{repo}/deployments',
  '/repos/{owner}/{repo}/deployments/{deployment_id}',
  '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
  '/repos/{owner}/{repo}/issues',
];

/** The spec's operations for the paths we serve, read once per test process (the file is 70 MB). */
function specOperations() {
  if (operations) return operations;
  const spec = JSON.parse(readFileSync(join(repoRoot, 'node_modules/@octokit/openapi/generated/api.github.com.deref.json'), 'utf8')) as {
    paths: Record<string, Record<string, OpenApiOperation>>;
  };
  operations = [];
  for (const path of NEEDED) {
    const keys = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, '([^/]+)')}$`);
    for (const [method, operation] of Object.entries(spec.paths[path]!)) {
      if (typeof operation === 'object' && 'operationId' in operation)
        operations.push({ method: method.toUpperCase(), pattern, keys, operation });
    }
  }
  return operations;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
// OpenAPI 3.0 keywords (nullable, example, x-github…) are not JSON Schema: strict mode off, nullable kept.
const ajv = addFormats(new Ajv({ strict: false, allErrors: true, validateFormats: true }));
const compiled = new WeakMap<Json, ValidateFunction>();
function validator(schema: Json): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(jsonSchema(schema) as Json)));
  return validate;
}

/**
 * OpenAPI 3.0's `nullable: true` as JSON Schema: Ajv understands it only beside a `type`, and the
 * spec also puts it on `oneOf`s (an issue's milestone), so every one is rewritten the same way.
 */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Json;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === 'example' || k === 'examples' ? v : jsonSchema(v)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

function user(login: string, id: number): Json {
  // GitHub percent-encodes the brackets of bot logins in URLs (an unencoded `[` is not a valid URI).
  const path = encodeURIComponent(login);
  const url = `https://api.github.com/users/${path}`;
  return {
    login,
    id,
    node_id: `MDQ6VXNlcj${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `https://github.com/apps/${path.replace('%5Bbot%5D', '')}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: 'Bot',
    site_admin: false,
  };
}

const BOT = user('github-actions[bot]', 41898282);

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class GitHubDouble {
  readonly owner = OWNER;
  readonly repo = REPO;
  readonly deployments: DoubleDeployment[] = [];
  readonly issues: DoubleIssue[] = [];
  /** Every request and response that did not match the OpenAPI description. */
  readonly problems: string[] = [];
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  readonly denied = new Set<Permission>();
  /** Faults to serve, checked in order (see inject). */
  readonly faults: Fault[] = [];
  /** Every fault served: method, path and status. */
  readonly faultsServed: Array<{ method: string; path: string; status: number; at: number }> = [];
  url = '';
  private nextId = 1000;
  private readonly server = createServer((req, res) => void this.handle(req, res));

  static async start(): Promise<GitHubDouble> {
    specOperations();
    const double = new GitHubDouble();
    await new Promise<void>((resolve) => double.server.listen(0, '127.0.0.1', resolve));
    const address = double.server.address() as { port: number };
    double.url = `http://127.0.0.1:${address.port}`;
    return double;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The environment a runner gives an action talking to this double. */
  env(): Record<string, string> {
    return {
      GITHUB_API_URL: this.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
    };
  }

  /** Serves `fault` for matching requests from now on; returns it so a test can end it with `heal`. */
  inject(fault: Fault): Fault {
    this.faults.push({ ...fault });
    return this.faults.at(-1)!;
  }

  heal(): void {
    this.faults.splice(0);
  }

  private faultFor(method: string, path: string, body: string): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.method && fault.method !== method) continue;
      if (fault.path && !fault.path.test(path)) continue;
      if (fault.body && !fault.body.test(body)) continue;
      if ((fault.skip ?? 0) > 0) {
        fault.skip! -= 1;
        continue;
      }
      if (fault.times !== undefined) {
        if (fault.times <= 0) continue;
        fault.times -= 1;
      }
      return fault;
    }
    return undefined;
  }

  private static faultAnswer(fault: Fault & { kind: Exclude<FaultKind, 'slow'> }): {
    status: number;
    body: string;
    headers: Record<string, string>;
  } {
    const json = (
      status: number,
      message: string,
      documentation = 'https://docs.github.com/rest',
      headers: Record<string, string> = {},
    ) => ({
      status,
      body: JSON.stringify({ message, documentation_url: documentation, status: String(status) }),
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    });
    const reset = String(Math.floor(Date.now() / 1000) + (fault.resetIn ?? 3600));
    switch (fault.kind) {
      case 401:
        return json(401, 'Bad credentials');
      case 403:
        return json(403, 'Resource not accessible by integration', 'https://docs.github.com/rest/deployments/deployments');
      case 'rate-limit':
        return json(
          403,
          'API rate limit exceeded for installation ID 4242.',
          'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
          {
            'x-ratelimit-limit': '5000',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-used': '5000',
            'x-ratelimit-reset': reset,
            'x-ratelimit-resource': 'core',
          },
        );
      case 'secondary-rate-limit':
        return json(
          403,
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          { 'retry-after': String(fault.resetIn ?? 60) },
        );
      case 500:
        return json(500, 'Server Error');
      case 502:
        return {
          status: 502,
          body: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
          headers: { 'content-type': 'text/html' },
        };
    }
  }

  /** A deployment as it ended up, by artifact; throws if there is not exactly one. */
  deploymentOf(artifact: string, environment?: string): DoubleDeployment {
    const found = this.deployments.filter(
      (d) => typeof d.payload === 'object' && d.payload.artifact === artifact && (!environment || d.environment === environment),
    );
    if (found.length !== 1) throw new Error(`expected one deployment of ${artifact}, found ${found.length}`);
    return found[0]!;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const route = specOperations().find((o) => o.method === req.method && o.pattern.test(url.pathname));
    const where = `${req.method} ${url.pathname}`;
    const fault = route && this.faultFor(req.method ?? '', url.pathname + url.search, raw);
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 10_000));
    if (fault && fault.kind !== 'slow') {
      // Deliberate: not checked against the spec, which documents few of these answers.
      const answer = GitHubDouble.faultAnswer(fault as Fault & { kind: Exclude<FaultKind, 'slow'> });
      this.faultsServed.push({ method: req.method ?? '', path: url.pathname + url.search, status: answer.status, at: Date.now() });
      this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, status: answer.status });
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      return;
    }
    let status: number;
    let body: unknown;
    let headers: Record<string, string> = {};
    if (!route) {
      this.problems.push(`${where}: not an operation the double serves`);
      status = 404;
      body = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
    } else {
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(route.pattern.exec(url.pathname)![i + 1]!)]));
      let json: Json | undefined;
      try {
        json = raw ? (JSON.parse(raw) as Json) : undefined;
        this.checkRequest(route.operation, where, params, url.searchParams, json);
        ({ status, body, headers = {} } = this.serve(route.operation.operationId, params, url, json ?? {}, req));
      } catch (error) {
        status = error instanceof HttpError ? error.status : 400;
        body = { message: (error as Error).message, documentation_url: 'https://docs.github.com/rest', status: String(status) };
        if (!(error instanceof HttpError)) this.problems.push(`${where}: ${(error as Error).message}`);
      }
      this.checkResponse(route.operation, where, status, body);
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, status });
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-limit': '5000',
      ...headers,
    });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  private checkRequest(
    operation: OpenApiOperation,
    where: string,
    params: Record<string, string>,
    query: URLSearchParams,
    body: Json | undefined,
  ): void {
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in === 'header') continue;
      const value = parameter.in === 'path' ? params[parameter.name] : (query.get(parameter.name) ?? undefined);
      if (value === undefined) {
        if (parameter.required) throw new Error(`missing required ${parameter.in} parameter ${parameter.name}`);
        continue;
      }
      const typed = parameter.schema.type === 'integer' ? Number(value) : value;
      const validate = validator(parameter.schema);
      if (!validate(typed)) throw new Error(`${parameter.in} parameter ${parameter.name}=${value}: ${ajv.errorsText(validate.errors)}`);
    }
    const known = new Set((operation.parameters ?? []).map((p) => p.name));
    for (const key of query.keys()) if (!known.has(key)) throw new Error(`unknown query parameter ${key}`);
    const schema = operation.requestBody?.content['application/json'].schema;
    if (schema) {
      const validate = validator(schema);
      if (!validate(body)) throw new Error(`request body: ${ajv.errorsText(validate.errors)}`);
      const allowed = new Set(Object.keys((schema.properties as Json | undefined) ?? {}));
      for (const key of Object.keys(body ?? {})) if (!allowed.has(key)) throw new Error(`request body: unknown property ${key}`);
    } else if (body !== undefined) {
      throw new Error(`${where} takes no body`);
    }
  }

  private checkResponse(operation: OpenApiOperation, where: string, status: number, body: unknown): void {
    const documented = operation.responses[String(status)];
    // GitHub documents 403 only on some operations; its body is the same Basic Error everywhere.
    const schema = documented?.content?.['application/json']?.schema ?? (status === 403 ? basicErrorSchema() : undefined);
    if (!documented && status !== 403) {
      this.problems.push(`${where}: answered ${status}, which the spec does not document for ${operation.operationId}`);
      return;
    }
    if (!schema) return;
    const validate = validator(schema);
    if (!validate(body)) this.problems.push(`${where}: response ${status} does not match the spec: ${ajv.errorsText(validate.errors)}`);
  }

  private requirePermission(req: IncomingMessage, permission: Permission): void {
    if (!/^(token|bearer) \S+$/i.test(req.headers.authorization ?? '')) throw new HttpError(401, 'Requires authentication');
    if (this.denied.has(permission)) throw new HttpError(403, 'Resource not accessible by integration');
  }

  private serve(
    operationId: string,
    params: Record<string, string>,
    url: URL,
    body: Json,
    req: IncomingMessage,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    if (params.owner !== OWNER || params.repo !== REPO) throw new HttpError(404, 'Not Found');
    switch (operationId) {
      case 'repos/list-deployments': {
        this.requirePermission(req, 'deployments');
        const environment = url.searchParams.get('environment');
        const all = this.deployments.filter((d) => !environment || d.environment === environment).reverse();
        return this.page(
          all.map((d) => this.deploymentJson(d)),
          url,
        );
      }
      case 'repos/create-deployment': {
        this.requirePermission(req, 'deployments');
        return { status: 201, body: this.deploymentJson(this.createDeployment(body)) };
      }
      case 'repos/get-deployment': {
        this.requirePermission(req, 'deployments');
        return { status: 200, body: this.deploymentJson(this.find(params.deployment_id!)) };
      }
      case 'repos/list-deployment-statuses': {
        this.requirePermission(req, 'deployments');
        const deployment = this.find(params.deployment_id!);
        return this.page(
          [...deployment.statuses].reverse().map((s) => this.statusJson(deployment, s)),
          url,
        );
      }
      case 'repos/create-deployment-status': {
        this.requirePermission(req, 'deployments');
        const deployment = this.find(params.deployment_id!);
        return { status: 201, body: this.statusJson(deployment, this.createStatus(deployment, body)) };
      }
      case 'issues/create': {
        this.requirePermission(req, 'issues');
        const issue: DoubleIssue = {
          number: this.issues.length + 1,
          title: String(body.title),
          body: typeof body.body === 'string' ? body.body : null,
          labels: ((body.labels as unknown[] | undefined) ?? []).map((l) => (typeof l === 'string' ? l : String((l as Json).name))),
        };
        this.issues.push(issue);
        return { status: 201, body: this.issueJson(issue) };
      }
      default:
        throw new HttpError(404, `the double does not implement ${operationId}`);
    }
  }

  private find(id: string): DoubleDeployment {
    const deployment = this.deployments.find((d) => String(d.id) === id);
    if (!deployment) throw new HttpError(404, 'Not Found');
    return deployment;
  }

  private page(items: unknown[], url: URL): { status: number; body: unknown; headers: Record<string, string> } {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Number(url.searchParams.get('page') ?? 1);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next}>; rel="next"`;
    }
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers };
  }

  private createDeployment(body: Json): DoubleDeployment {
    const now = new Date().toISOString();
    const environment = typeof body.environment === 'string' ? body.environment : 'production';
    const deployment: DoubleDeployment = {
      id: this.nextId++,
      sha: /^[0-9a-f]{40}$/.test(String(body.ref)) ? String(body.ref) : 'ffac537e6cbbf934b08745a378932722df287a53',
      ref: String(body.ref),
      task: typeof body.task === 'string' ? body.task : 'deploy',
      environment,
      payload: typeof body.payload === 'string' ? body.payload : ((body.payload as Json | undefined) ?? {}),
      description: typeof body.description === 'string' ? body.description : null,
      production_environment: typeof body.production_environment === 'boolean' ? body.production_environment : environment === 'production',
      transient_environment: body.transient_environment === true,
      created_at: now,
      updated_at: now,
      request: body,
      statuses: [],
    };
    this.deployments.push(deployment);
    return deployment;
  }

  private createStatus(deployment: DoubleDeployment, body: Json): DoubleDeployment['statuses'][number] {
    const status = {
      id: this.nextId++,
      state: body.state as DeploymentState,
      description: typeof body.description === 'string' ? body.description : '',
      log_url: typeof body.log_url === 'string' ? body.log_url : '',
      environment_url: typeof body.environment_url === 'string' ? body.environment_url : '',
      created_at: new Date().toISOString(),
    };
    if (status.description.length > 140) throw new HttpError(422, 'description is too long (maximum is 140 characters)');
    deployment.statuses.push(status);
    deployment.updated_at = status.created_at;
    // GitHub's auto_inactive: prior non-transient, non-production deployments of the environment.
    if (status.state === 'success' && body.auto_inactive !== false) {
      for (const other of this.deployments) {
        if (
          other === deployment ||
          other.environment !== deployment.environment ||
          other.production_environment ||
          other.transient_environment
        )
          continue;
        if (other.statuses.at(-1)?.state === 'success') this.createStatus(other, { state: 'inactive', auto_inactive: false });
      }
    }
    return status;
  }

  private deploymentJson(d: DoubleDeployment): Json {
    const repository = `https://api.github.com/repos/${OWNER}/${REPO}`;
    return {
      url: `${repository}/deployments/${d.id}`,
      id: d.id,
      node_id: `DE_kwDO${d.id}`,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload,
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: BOT,
      created_at: d.created_at,
      updated_at: d.updated_at,
      statuses_url: `${repository}/deployments/${d.id}/statuses`,
      repository_url: repository,
      transient_environment: d.transient_environment,
      production_environment: d.production_environment,
    };
  }

  private statusJson(d: DoubleDeployment, s: DoubleDeployment['statuses'][number]): Json {
    const repository = `https://api.github.com/repos/${OWNER}/${REPO}`;
    return {
      url: `${repository}/deployments/${d.id}/statuses/${s.id}`,
      id: s.id,
      node_id: `DES_kwDO${s.id}`,
      state: s.state,
      creator: BOT,
      description: s.description,
      environment: d.environment,
      target_url: s.log_url,
      created_at: s.created_at,
      updated_at: s.created_at,
      deployment_url: `${repository}/deployments/${d.id}`,
      repository_url: repository,
      // GitHub leaves out URLs that were never given rather than sending "" (not a valid uri).
      ...(s.environment_url ? { environment_url: s.environment_url } : {}),
      ...(s.log_url ? { log_url: s.log_url } : {}),
    };
  }

  private issueJson(issue: DoubleIssue): Json {
    const repository = `https://api.github.com/repos/${OWNER}/${REPO}`;
    const url = `${repository}/issues/${issue.number}`;
    const now = new Date().toISOString();
    return {
      id: 5000 + issue.number,
      node_id: `I_kwDO${issue.number}`,
      url,
      repository_url: repository,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `https://github.com/${OWNER}/${REPO}/issues/${issue.number}`,
      number: issue.number,
      state: 'open',
      title: issue.title,
      body: issue.body,
      user: BOT,
      labels: issue.labels.map((name, i) => ({
        id: 9000 + i,
        node_id: `LA_${i}`,
        url: `${repository}/labels/${name}`,
        name,
        description: null,
        color: 'ededed',
        default: false,
      })),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments: 0,
      closed_at: null,
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
    };
  }
}

function basicErrorSchema(): Json {
  const create = specOperations().find((o) => o.operation.operationId === 'issues/create')!;
  return create.operation.responses['403']!.content!['application/json']!.schema;
}
