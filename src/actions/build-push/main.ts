import { runAction } from '../../core/action.ts';
import { buildPushMain } from './run.ts';

await runAction(buildPushMain, 'stopping the build; no tag is pushed before its blobs.');
