/** The edge gateway Worker (production): the bundled workers/gateway.config.json. */
import rawConfig from './gateway.config.json';
import { gatewayWorker } from './gateway-worker.ts';

export default gatewayWorker(rawConfig);
