// @ts-check
// The import rules of src/ (issue 32), checked by `npm run lint` (`depcruise src test bench harness --config .dependency-cruiser.cjs`):
// no import circles, type-only imports included, and the layering of src/'s folders that docs/architecture.md
// explains; and between the top-level folders (issue 33): src/ imports none of test/, bench/ and harness/, harness/
// imports neither test/ nor bench/, and test/ and bench/ do not import each other. ESLint's no-restricted-imports (eslint.config.mjs) keeps Node built-ins and Node-side SDK packages out
// of workflow code; these rules are about which of our own folders may import which.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: the modules load in an order that depends on who is imported first.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-test-or-bench',
      severity: 'error',
      comment: 'src/ is what ships: it never imports the tests, the bench or their harness.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|harness)/' },
    },
    {
      name: 'harness-is-neutral',
      severity: 'error',
      comment: 'harness/ holds what the tests and the bench both use: it imports neither of them (src/ and packages only).',
      from: { path: '^harness/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'bench-not-test',
      severity: 'error',
      comment: 'The bench does not import the tests: what both need lives in harness/.',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'test-not-bench',
      severity: 'error',
      comment: 'The tests do not import the bench: what both need lives in harness/.',
      from: { path: '^test/' },
      to: { path: '^bench/' },
    },
    {
      name: 'shared-imports-shared',
      severity: 'error',
      comment: 'src/shared/ is workflow-safe code, bundled into the workflows: it imports only src/shared/.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'workflows-import-shared',
      severity: 'error',
      comment: 'src/workflows/ is replayed in the workflow sandbox: it imports only src/shared/ and src/workflows/.',
      from: { path: '^src/workflows/' },
      to: { path: '^src/', pathNot: '^src/(shared|workflows)/' },
    },
    {
      name: 'lib-imports-lib-and-shared',
      severity: 'error',
      comment: 'src/lib/ is Node-side helpers for every Node-side folder: it imports only src/lib/ and src/shared/.',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/(lib|shared)/' },
    },
    {
      name: 'middle-imports-lib-and-shared',
      severity: 'error',
      comment:
        'activities, client, codec, observability, toolchain and simulator import src/shared/, src/lib/ and their own ' +
        'folder; client/ may also import codec/ (the payload codec its connection uses).',
      from: { path: '^src/(activities|codec|observability|toolchain|simulator)/' },
      to: { path: '^src/', pathNot: ['^src/(shared|lib)/', '^src/$1/'] },
    },
    {
      name: 'client-imports-lib-shared-and-codec',
      severity: 'error',
      comment: 'src/client/ imports src/shared/, src/lib/, src/client/ and the payload codec in src/codec/.',
      from: { path: '^src/client/' },
      to: { path: '^src/', pathNot: '^src/(shared|lib|client|codec)/' },
    },
    {
      name: 'fleet-below-cli',
      severity: 'error',
      comment:
        'src/fleet/ (fleet files, plans, apply) drives loops through src/client/; the CLI and the dev stack call it, never the reverse.',
      from: { path: '^src/fleet/' },
      to: { path: '^src/(cli|dashboard|worker|workflows|activities)/' },
    },
    {
      name: 'worker-not-cli-or-dashboard',
      severity: 'error',
      comment: 'src/worker/ sits above the Node-side folders; the CLI and the dashboard sit beside or above it.',
      from: { path: '^src/worker/' },
      to: { path: '^src/(cli|dashboard)/' },
    },
    {
      name: 'dashboard-not-cli-or-worker',
      severity: 'error',
      comment: "The dashboard's server sits above the Node-side folders; the CLI, which starts it, above it.",
      from: { path: '^src/dashboard/', pathNot: '^src/dashboard/browser/' },
      to: { path: '^src/(cli|worker)/' },
    },
    {
      name: 'browser-imports-shared',
      severity: 'error',
      comment: 'src/dashboard/browser/ runs in the browser: its code imports only src/shared/ and itself (no Node, no packages).',
      from: { path: '^src/dashboard/browser/' },
      to: { pathNot: '^src/(shared|dashboard/browser)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'browser-types-of-the-wire',
      severity: 'error',
      comment: 'Beyond src/shared/, the browser code reads only the types of what /api/loops answers (view.ts, findings-view.ts).',
      from: { path: '^src/dashboard/browser/' },
      to: { pathNot: ['^src/(shared|dashboard/browser)/', '^src/dashboard/(view|findings-view)[.]ts$'], dependencyTypes: ['type-only'] },
    },
  ],
  options: {
    // Type-only imports count: a circle through types still ties the modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
