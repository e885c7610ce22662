// A worker thread of the decision bench: runs the simulations it is sent and posts the verdicts back.
import { parentPort } from 'node:worker_threads';
import { type JudgeName, runOnce, type Scenario, type Verdict } from './judges.ts';

export interface Task {
  key: string;
  scenario: Scenario;
  judge: JudgeName;
  seeds: number[];
}

export interface TaskResult {
  key: string;
  verdicts: Verdict[];
}

parentPort!.on('message', async (task: Task) => {
  const verdicts: Verdict[] = [];
  for (const seed of task.seeds) verdicts.push(await runOnce(task.scenario, task.judge, seed));
  parentPort!.postMessage({ key: task.key, verdicts } satisfies TaskResult);
});
