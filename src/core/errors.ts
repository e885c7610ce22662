/**
 * A mistake in what the user gave us. It names the input, says what was wrong and shows a right
 * value, so the job log's single error line is enough to fix the workflow. Anything that is not a
 * ConfigurationError is a bug or an outage and keeps its stack in the debug log.
 */
export class ConfigurationError extends Error {
  readonly input: string;
  readonly example: string | undefined;

  constructor(input: string, problem: string, example?: string) {
    super(`Input "${input}": ${problem}${example ? `. Example: ${example}` : ''}`);
    this.name = 'ConfigurationError';
    this.input = input;
    this.example = example;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
