import { runAction } from '../../core/action.ts';
import { canaryPost } from './safety-net.ts';

await runAction(canaryPost, 'putting all traffic back on stable.');
