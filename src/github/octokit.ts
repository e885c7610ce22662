// Octokit with the plugins the actions use. client.ts imports this on the first GitHub call, so ncc
// puts it in a chunk of its own and a step that never calls GitHub never parses it.
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

export const ShipgateOctokit = Octokit.plugin(retry, throttling);
