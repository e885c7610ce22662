import { runAction } from '../../core/action.ts';
import { deployPost } from './run.ts';

await runAction(deployPost);
