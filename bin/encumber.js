#!/usr/bin/env node
// Entry point for `npx encumber`: registers the TypeScript loader (tsx) and
// runs the CLI from source, so what runs is exactly what is reviewed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// -1: a long-running command (serve) keeps the process alive.
if (code >= 0) process.exitCode = code;
