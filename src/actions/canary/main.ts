import { runAction } from '../../core/action.ts';
import { canaryMain } from './run.ts';

await runAction(canaryMain, 'putting all traffic back on stable.');
