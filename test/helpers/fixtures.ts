import type { MtfRunRequestBody } from '../../src/shared/mtf';

/** What a loop on the seed's defaults POSTs: written out, so a changed default fails a test. */
export const SEED_REQUEST_BODY: MtfRunRequestBody = {
  symbols: ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'],
  dry_run: true,
  force_run: false,
  force_timeframe_check: false,
  current_tf: null,
  workers: 1,
};
