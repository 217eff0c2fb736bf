import { defineVerifySuite } from './e2e/verify-suite.ts';

defineVerifySuite('postgres');
