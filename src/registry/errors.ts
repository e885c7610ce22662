import { logText } from '../core/untrusted.ts';

/** A registry answered with an error, or could not be reached; the message says what to check. */
export class RegistryError extends Error {
  readonly status: number | undefined;
  /** The registry gave no answer within the deadline: worth one more try, not four. */
  readonly silent: boolean;
  /** Worth another try: the network failed, or the registry said 429 or 5xx. */
  readonly retriable: boolean;

  constructor(message: string, status?: number, options: { silent?: boolean; retriable?: boolean } = {}) {
    super(message);
    this.name = 'RegistryError';
    this.status = status;
    this.silent = options.silent ?? false;
    this.retriable = options.retriable ?? (status === undefined || status === 429 || status >= 500);
  }
}

/** The `errors` a distribution registry puts in its JSON bodies, shortened to one log-safe line. */
export function registryErrorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = Array.isArray(parsed?.errors) ? parsed.errors[0] : undefined;
    if (first) return logText([first.code, first.message].filter((v) => typeof v === 'string' && v).join(': '), 200);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return logText(body.trim().split('\n')[0]!, 200);
}

/** What 401, 403 and 404 mean for someone pushing or pulling, naming the image. */
export function statusAdvice(status: number, image: string, what: string): string {
  switch (status) {
    case 401:
      return `${image}: the registry refused the credentials for ${what} (401 Unauthorized). Check username and password (on ghcr.io: password: \${{ secrets.GITHUB_TOKEN }} with permissions: packages: write)`;
    case 403:
      return `${image}: access denied for ${what} (403 Forbidden). The credentials are valid but may not do this: check the token's scopes (write:packages) and the package's access settings`;
    case 404:
      return `${image}: ${what} not found (404). Check the registry, repository name, tag or digest`;
    default:
      return `${image}: ${what} failed with HTTP ${status}`;
  }
}
