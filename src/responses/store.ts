/**
 * Stored responses (`store`, `previous_response_id`, GET/DELETE /v1/responses/{id}): one
 * JSON record per response in Redis, `gw:resp:<id>`, with a TTL, holding its tenant and zone
 * (only they may read it back), the conversation's input items so far and the Response.
 * A record is written only where the Redis may hold the key's zone (`responses.redisZones`).
 */
import { type Redis, redisKeys } from '../store/index.ts';
import type { InputItem } from './schema.ts';

export interface StoredResponse {
  tenant: string;
  /** The zone of the key that made it (null: unrestricted). */
  zone: string | null;
  /** Every input item of the conversation up to this response (history first). */
  input: InputItem[];
  response: Record<string, unknown>;
}

const keyOf = redisKeys.response;

export class ResponseStore {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds: number) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
  }

  async put(id: string, record: StoredResponse): Promise<void> {
    await this.#redis.set(keyOf(id), JSON.stringify(record), { ex: this.#ttlSeconds });
  }

  /** The record, if it exists and belongs to this tenant and zone; else undefined (a 404:
   * another tenant's response is not there for the caller). */
  async get(id: string, tenant: string, zone: string | null): Promise<StoredResponse | undefined> {
    const raw = await this.#redis.get<StoredResponse | string>(keyOf(id));
    if (!raw) return undefined;
    const record = typeof raw === 'string' ? (JSON.parse(raw) as StoredResponse) : raw;
    return record.tenant === tenant && record.zone === zone ? record : undefined;
  }

  async delete(id: string, tenant: string, zone: string | null): Promise<boolean> {
    if (!(await this.get(id, tenant, zone))) return false;
    await this.#redis.del(keyOf(id));
    return true;
  }
}
