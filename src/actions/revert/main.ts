import { runAction } from '../../core/action.ts';
import { revertMain } from './run.ts';

await runAction(revertMain, 'stopping the revert.');
