import { defineMaskingSuite } from './e2e/masking-suite.ts';

defineMaskingSuite('postgres');
