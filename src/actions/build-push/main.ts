import { runAction } from '../../core/action.ts';
import { buildPushMain } from './run.ts';

await runAction(buildPushMain);
