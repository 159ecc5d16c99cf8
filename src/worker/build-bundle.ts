/** `npm run build` step: bundles the workflow code once, so a production worker starts without webpack. */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PREBUILT_BUNDLE } from './worker';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger() });
  writeFileSync(PREBUILT_BUNDLE, code);
  console.log(`workflow bundle: ${PREBUILT_BUNDLE} (${Math.round(code.length / 1024)} KiB)`);
}

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
