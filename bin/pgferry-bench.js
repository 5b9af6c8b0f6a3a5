#!/usr/bin/env node
// pgferry benchmark: `npm run bench [-- --scale N] [--runs R] [--tools pgferry,pgferry_text,pgdump,pgcopydb]`.
// Runs the TypeScript sources through tsx (no build needed).
import { register } from 'tsx/esm/api';

register();
await import('../src/dev/bench/main.ts');
