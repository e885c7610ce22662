import { runAction } from '../../core/action.ts';
import { deployPost } from './safety-net.ts';

await runAction(deployPost, 'recording the deployment before the runner stops.');
