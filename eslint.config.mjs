// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.toolchain/', '.data/', 'scripts/', 'eslint.config.mjs', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Prettier wraps code at 140 columns but not strings or comments: those stay readable too.
    files: ['src/**/*.ts'],
    rules: { 'max-len': ['error', { code: 160 }] },
  },
  {
    // The tests and harness/ (what they share with the bench).
    files: ['test/**/*.ts', 'harness/**/*.ts'],
    // Activities are plain functions handed around by reference: no `this` to lose.
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Workflow code is replayed: it must not touch the network, the file system, the clock or
    // randomness directly, and Node built-ins break the workflow bundle.
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts', 'test/replay/changed-workflow.ts', 'bench/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must stay deterministic: no Node built-ins.' })),
          patterns: [
            {
              group: [
                '@temporalio/activity',
                '@temporalio/client',
                '@temporalio/worker',
                '**/activities/**',
                '**/client/**',
                '**/worker/**',
                '**/simulator/**',
                '**/cli/**',
                '**/lib/**',
              ],
              message: 'Workflow code may import only @temporalio/workflow, @temporalio/common, zod and src/shared (src/lib is Node-side).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'No network access in workflow code: call an activity.' },
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'process', message: 'Workflow code must not read the environment.' },
        { name: 'performance', message: 'Use workflow time (Date.now() is replay-safe inside the sandbox).' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use uuid4() or a seeded value from @temporalio/workflow.' },
      ],
    },
  },
);
