import { z } from 'zod';
import { ConfigurationError } from '../core/errors.ts';
import { logText } from '../core/untrusted.ts';
import { checkSchema, parseYamlInput } from '../core/yaml-input.ts';
import { HEALTH_EXAMPLE, healthSchema, SMOKE_EXAMPLE, smokeSchema, type HealthConfig, type SmokeCheck } from './checks.ts';
import { routingExample, routingSchema, type Routing } from '../slots/config.ts';
import { ARTIFACT, VERSION } from '../slots/release.ts';

/**
 * Input readers `deploy` and `revert` share, so both accept and refuse exactly the same things.
 * Each takes the input's name (the constants of the calling action) and throws ConfigurationError.
 */
export type GetInput = (name: string) => string;

// Control characters are exactly what this pattern keeps out.
// eslint-disable-next-line no-control-regex
const ENVIRONMENT = /^[^\s\x00-\x1f'"`][^\x00-\x1f'"`]{0,254}$/;

export function required(getInput: GetInput, name: string, example: string): string {
  const value = getInput(name).trim();
  if (value === '') throw new ConfigurationError(name, 'is required', example);
  return value;
}

export function environmentInput(getInput: GetInput, name: string): string {
  const value = required(getInput, name, `${name}: production`);
  if (!ENVIRONMENT.test(value))
    throw new ConfigurationError(
      name,
      `"${value}" is not an environment name (up to 255 characters, no quotes or control characters)`,
      `${name}: production`,
    );
  return value;
}

export function artifactValue(value: string, name: string): string {
  if (!ARTIFACT.test(value)) {
    throw new ConfigurationError(
      name,
      `"${logText(value, 200)}" is not an artifact (one word: letters, digits and _ . : @ / + -)`,
      `${name}: ghcr.io/acme/app@sha256:0a1b… or ${name}: v1.4.2`,
    );
  }
  return value;
}

export function versionValue(value: string, name: string): string {
  if (!VERSION.test(value)) {
    throw new ConfigurationError(
      name,
      `"${logText(value, 200)}" is not a version (one word: letters, digits and _ . : + -)`,
      `${name}: v1.4.2`,
    );
  }
  return value;
}

export function tokenInput(getInput: GetInput, name: string): string {
  return required(getInput, name, `${name}: \${{ github.token }}`);
}

export function booleanValue(getInput: GetInput, name: string, fallback: boolean | undefined): boolean | undefined {
  const raw = getInput(name).trim().toLowerCase();
  if (raw === '') return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigurationError(name, `"${raw}" is not true or false`, `${name}: true`);
}

export function oneOf<T extends string>(getInput: GetInput, name: string, allowed: readonly T[], fallback: T): T {
  const value = getInput(name).trim() || fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigurationError(name, `"${value}" is not one of ${allowed.join(', ')}`, `${name}: ${fallback}`);
  return value as T;
}

/** deploy's `target`, canary's `router`, revert's `target` and `router`: the same mapping. */
export function routingInput(getInput: GetInput, name: string): Routing | undefined {
  const text = getInput(name).trim();
  return text ? parseYamlInput(name, text, routingSchema, routingExample(name)) : undefined;
}

export function healthInput(getInput: GetInput, name: string): HealthConfig | undefined {
  const text = getInput(name).trim();
  if (!text) return undefined;
  // A bare URL is the common case: `health: http://{address}/healthz`.
  const document = parseYamlInput(name, text, z.unknown(), HEALTH_EXAMPLE);
  return checkSchema(name, typeof document === 'string' ? { url: document } : document, healthSchema, HEALTH_EXAMPLE);
}

export function smokeInput(getInput: GetInput, name: string): SmokeCheck[] {
  const text = getInput(name).trim();
  return text ? parseYamlInput(name, text, smokeSchema as z.ZodType<SmokeCheck[]>, SMOKE_EXAMPLE) : [];
}
