#!/usr/bin/env node
// The `leasing-store` command: runs the compiled CLI (dist/ is made by `npm run build`, and is in
// the packed package). In a checkout without dist/, use `npm run cli -- <command>` instead.
import '../dist/cli/main.js';
