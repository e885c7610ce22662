import { runAction } from '../../core/action.ts';
import { canaryMain } from './run.ts';

await runAction(canaryMain);
