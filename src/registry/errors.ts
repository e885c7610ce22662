/** A registry answered with an error, or could not be reached; the message says what to check. */
export class RegistryError extends Error {
  readonly status: number | undefined;
  /** Worth another try: the network failed, or the registry said 429 or 5xx. */
  readonly retriable: boolean;

  constructor(message: string, status?: number) {
    super(message);
    this.name = 'RegistryError';
    this.status = status;
    this.retriable = status === undefined || status === 429 || status >= 500;
  }
}

/** The `errors` a distribution registry puts in its JSON bodies, shortened to one line. */
export function registryErrorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.trim().split('\n')[0]!.slice(0, 200);
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
