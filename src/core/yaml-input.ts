import { parse } from 'yaml';
import type { z } from 'zod';
import { ConfigurationError } from './errors.ts';

/**
 * Parses a YAML-valued input and checks it against a schema. The first problem becomes one
 * ConfigurationError that names the input and the path inside it, e.g. `Input "router": upstream: …`.
 */
export function parseYamlInput<S extends z.ZodType>(input: string, text: string, schema: S, example: string): z.output<S> {
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigurationError(input, `is not valid YAML (${reason})`, example);
  }
  return checkSchema(input, document, schema, example);
}

export function checkSchema<S extends z.ZodType>(input: string, value: unknown, schema: S, example: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new ConfigurationError(input, `${where}${issue.message}`, example);
}
