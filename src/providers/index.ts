/**
 * Providers. Contract: `createProviders(config)` returns one `Provider` (./types.ts) per
 * configured provider id; each builds upstream requests and maps responses, streams and
 * usage to OpenAI shapes.
 */
import type { GatewayConfig } from '../config/index.ts';
import { anthropicProvider } from './anthropic/index.ts';
import { azureProvider } from './azure.ts';
import { bedrockProvider } from './bedrock/index.ts';
import { geminiProvider } from './gemini/index.ts';
import { compatibleProvider, openaiProvider } from './openai.ts';
import { originProvider } from './origin.ts';
import type { Provider } from './types.ts';

export type {
  NativeFormat,
  NativeSupport,
  Provider,
  RequestMeta,
  UpstreamRequest,
} from './types.ts';

export function createProviders(config: GatewayConfig): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  const hosts = configuredHosts(config);
  for (const [id, p] of Object.entries(config.providers)) {
    const region = p.region;
    const zones = p.zones ?? (region ? [config.regions[region]!.zone] : []);
    const place = (provider: Provider): Provider => ({ ...provider, region, zones, hosts });
    switch (p.kind) {
      case 'openai':
        providers.set(id, place(openaiProvider(id, p, config.defaults)));
        break;
      case 'openai-compatible':
        providers.set(id, place(compatibleProvider(id, p, config.defaults)));
        break;
      case 'azure-openai':
        providers.set(id, place(azureProvider(id, p, config.defaults)));
        break;
      case 'origin':
        providers.set(id, place(originProvider(id, p, config.defaults)));
        break;
      case 'anthropic':
        providers.set(id, place(anthropicProvider(id, p, config.defaults)));
        break;
      case 'gemini':
        providers.set(id, place(geminiProvider(id, p, config.defaults)));
        break;
      case 'bedrock':
        providers.set(id, place(bedrockProvider(id, p, config.defaults)));
        break;
    }
  }
  return providers;
}

/** The hosts (with and without port) of every URL in the providers' and regions' config. */
function configuredHosts(config: GatewayConfig): string[] {
  const urls = [
    ...Object.values(config.providers).flatMap((p) => Object.values(p)),
    ...Object.values(config.regions).map((r) => r.origin),
  ].filter((v): v is string => typeof v === 'string' && /^https?:\/\//.test(v));
  const hosts = new Set<string>();
  for (const url of urls) {
    const { host, hostname } = new URL(url);
    hosts.add(host);
    hosts.add(hostname);
  }
  // Longest first, so a host with its port is replaced before the bare name inside it.
  return [...hosts].sort((a, b) => b.length - a.length);
}
