import { runAction } from '../../core/action.ts';
import { deployMain } from './run.ts';

await runAction(deployMain, 'stopping the deploy and recording it.');
