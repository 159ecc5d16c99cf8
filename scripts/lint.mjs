#!/usr/bin/env node
// `npm run lint`: the type checks, ESLint, the dependency rules and Prettier, as many at once as the
// machine has cores (each is single-threaded; one after the other they took about 60 s on 2 cores,
// side by side about half). Each check's output is kept and printed once it ends, so two never mix;
// the run fails if any check fails, after all have ended.
// `--types-checked` leaves out the two tsc runs: `npm test` builds with --force just before, and the
// build runs the same two tsc projects, so checking the types again would only cost time.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

// Longest first, so the slowest check never starts last.
const CHECKS = [
  { name: 'eslint', args: [bin('eslint'), '.'] },
  { name: 'tsc', args: [bin('tsc'), '-p', 'tsconfig.json', '--noEmit'], types: true },
  { name: 'prettier', args: [bin('prettier'), '--check', '.', '--log-level', 'warn'] },
  { name: 'tsc (dashboard browser code)', args: [bin('tsc'), '-p', 'src/dashboard/browser/tsconfig.json'], types: true },
  {
    name: 'dependency rules',
    args: [bin('depcruise'), 'src', 'test', 'bench', 'harness', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
  },
];

function run({ name, args }) {
  return new Promise((resolve) => {
    const began = Date.now();
    const child = spawn(args[0], args.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const end = (code, why) =>
      resolve({ name, ok: code === 0, output: why ? `${output}${why}\n` : output, seconds: (Date.now() - began) / 1000 });
    child.on('error', (err) => end(1, `could not run ${args[0]}: ${err.message}`));
    child.on('close', (code, signal) => end(code, signal ? `ended by ${signal}` : ''));
  });
}

const typesChecked = process.argv.includes('--types-checked');
const queue = CHECKS.filter((check) => !(typesChecked && check.types));
const results = [];
async function lane() {
  for (let check = queue.shift(); check; check = queue.shift()) {
    const result = await run(check);
    if (result.output.trim() !== '') process.stdout.write(`--- ${result.name}\n${result.output}`);
    results.push(result);
  }
}
await Promise.all(Array.from({ length: Math.max(1, Math.min(availableParallelism(), queue.length)) }, lane));

const failed = results.filter((r) => !r.ok);
const summary = results.map((r) => `${r.name} ${r.ok ? 'ok' : 'FAILED'} (${r.seconds.toFixed(1)} s)`).join(', ');
console.log(`lint: ${summary}`);
if (failed.length > 0) {
  console.log(`lint failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}
