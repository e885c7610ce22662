import { runAction } from '../../core/action.ts';
import { revertPost } from './safety-net.ts';

await runAction(revertPost, 'leaving traffic on the known-good side.');
