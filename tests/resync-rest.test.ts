import { defineResyncSuite } from './e2e/resync-suite.ts';

defineResyncSuite('rest');
