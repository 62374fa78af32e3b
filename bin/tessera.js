#!/usr/bin/env node
// The `tessera` command: a thin launcher for the compiled CLI (npm run build writes dist/).
await import('../dist/cli/main.js');
