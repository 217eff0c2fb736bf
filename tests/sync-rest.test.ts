import { defineSyncSuite } from './e2e/sync-suite.ts';

defineSyncSuite('rest');
