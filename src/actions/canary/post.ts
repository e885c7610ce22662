import { runAction } from '../../core/action.ts';
import { canaryPost } from './run.ts';

await runAction(canaryPost);
