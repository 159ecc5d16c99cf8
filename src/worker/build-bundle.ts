/** `npm run build` step: bundles the workflow code once, so a production worker starts without webpack. */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ENCODED_FAILURE_CONVERTER_PATH } from '../codec/encryption';
import { PREBUILT_BUNDLE, PREBUILT_ENCODED_FAILURES_BUNDLE } from './worker';

async function bundle(path: string, failureConverterPath?: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath,
    logger: quietLogger(),
  });
  writeFileSync(path, code);
  console.log(`workflow bundle: ${path} (${Math.round(code.length / 1024)} KiB)`);
}

async function main(): Promise<void> {
  await bundle(PREBUILT_BUNDLE);
  // Encrypted loops convert the workflow's own failures with their failure converter, compiled in.
  await bundle(PREBUILT_ENCODED_FAILURES_BUNDLE, ENCODED_FAILURE_CONVERTER_PATH);
}

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
