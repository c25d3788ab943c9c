/**
 * The edge gateway Worker of the local run (`npm run dev`, wrangler.dev.toml): the
 * development config, workers/gateway.dev.config.json — three regions with their origins,
 * every cloud provider (local fakes unless a real key is given), a trusted country header.
 */

import rawConfig from './gateway.dev.config.json';
import { gatewayWorker } from './gateway-worker.ts';

export default gatewayWorker(rawConfig);
