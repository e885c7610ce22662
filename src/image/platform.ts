/** A target platform such as `linux/amd64` or `linux/arm64/v8`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const PLATFORM = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/;

export function parsePlatform(text: string): Platform | undefined {
  const match = PLATFORM.exec(text.trim());
  if (!match) return undefined;
  return { os: match[1]!, architecture: match[2]!, ...(match[3] ? { variant: match[3] } : {}) };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** arm64 images usually say variant v8 or nothing; both mean the same machine. */
function variantOf(platform: Partial<Platform>): string | undefined {
  return platform.architecture === 'arm64' && platform.variant === 'v8' ? undefined : platform.variant;
}

export function platformMatches(wanted: Platform, candidate: Partial<Platform> | undefined): boolean {
  if (!candidate) return false;
  return (
    candidate.os === wanted.os &&
    candidate.architecture === wanted.architecture &&
    (wanted.variant === undefined || variantOf(candidate) === variantOf(wanted))
  );
}
