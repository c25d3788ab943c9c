/**
 * Prompt templates in Redis:
 *   gw:tpl:<id>           hash: record (JSON: id, tenant, description, uid, createdAt,
 *                         createdBy), latest (the newest version's number), production,
 *                         updatedAt
 *   gw:tpl:<id>:versions  hash: <n> -> the version (JSON), written once, never changed
 *   gw:tplids             set of ids (listing)
 * Each change is one Lua script, so concurrent new versions get distinct numbers and a
 * production pointer can only name a version that exists. `uid` is new for every creation:
 * isolate caches key compiled versions by it, so a template deleted and created again under
 * the same id never renders an old version.
 */
import { type Redis, redisKeys, scriptFor } from '../store/index.ts';
import type {
  CreateTemplateInput,
  TemplateRecord,
  TemplateVersion,
  TemplateVersionInput,
} from './schema.ts';

const metaKey = redisKeys.template.record;
const versionsKey = redisKeys.template.versions;
const IDS = redisKeys.template.ids;

const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'latest', 1, 'production', 1, 'updatedAt', ARGV[3])
redis.call('HSET', KEYS[2], '1', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/** ARGV[2] is the version JSON without its number; the number is spliced in here. */
const ADD_VERSION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'latest', 1)
redis.call('HSET', KEYS[2], tostring(n), '{"version":' .. n .. ',' .. string.sub(ARGV[2], 2))
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1])
return n
`;

/** -1: no such template; -2: no such version; else the previous production version. */
const SET_PRODUCTION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local v = tonumber(ARGV[1])
if v > tonumber(redis.call('HGET', KEYS[1], 'latest')) then return -2 end
local previous = tonumber(redis.call('HGET', KEYS[1], 'production'))
redis.call('HSET', KEYS[1], 'production', v, 'updatedAt', ARGV[2])
return previous
`;

const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`;

interface StoredRecord {
  id: string;
  tenant: string | null;
  description: string;
  uid: string;
  createdAt: string;
  createdBy: string;
}

/** What the request path needs: who may use it, which version is production, and the uid
 * that keys the isolate cache. */
export interface TemplateHead {
  id: string;
  tenant: string | null;
  uid: string;
  production: number;
  latest: number;
}

export class TemplateStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Creates the template with version 1; null when the id is taken. */
  async create(input: CreateTemplateInput, actor: string): Promise<TemplateRecord | null> {
    const now = new Date().toISOString();
    const id = input.id ?? newTemplateId();
    const record: StoredRecord = {
      id,
      tenant: input.tenant,
      description: input.description,
      uid: crypto.randomUUID(),
      createdAt: now,
      createdBy: actor,
    };
    const version: TemplateVersion = {
      version: 1,
      ...input.version,
      createdAt: now,
      createdBy: actor,
    };
    const created = await scriptFor<number>(this.#redis, CREATE).exec(
      [metaKey(id), versionsKey(id), IDS],
      [id, JSON.stringify(record), now, JSON.stringify(version)],
    );
    if (created !== 1) return null;
    return present(record, { latest: 1, production: 1, updatedAt: now });
  }

  /** Adds the next version; null when there is no such template. */
  async addVersion(
    id: string,
    input: TemplateVersionInput,
    actor: string,
  ): Promise<TemplateVersion | null> {
    const now = new Date().toISOString();
    const body = { ...input, createdAt: now, createdBy: actor };
    const n = await scriptFor<number>(this.#redis, ADD_VERSION).exec(
      [metaKey(id), versionsKey(id)],
      [now, JSON.stringify(body)],
    );
    return n > 0 ? { version: n, ...body } : null;
  }

  /** Points production at an existing version: the previous production version, or why not. */
  async setProduction(
    id: string,
    version: number,
  ): Promise<{ previous: number } | 'no_template' | 'no_version'> {
    const result = await scriptFor<number>(this.#redis, SET_PRODUCTION).exec(
      [metaKey(id)],
      [String(version), new Date().toISOString()],
    );
    if (result === -1) return 'no_template';
    if (result === -2) return 'no_version';
    return { previous: result };
  }

  /** Deletes the template and all its versions; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const deleted = await scriptFor<number>(this.#redis, DELETE).exec(
      [metaKey(id), versionsKey(id), IDS],
      [id],
    );
    return deleted === 1;
  }

  async head(id: string): Promise<TemplateHead | null> {
    const fields = await this.#redis.hmget<Record<string, unknown>>(
      metaKey(id),
      'record',
      'latest',
      'production',
    );
    const record = parseJson<StoredRecord>(fields?.record);
    if (!record) return null;
    return {
      id: record.id,
      tenant: record.tenant,
      uid: record.uid,
      production: Number(fields!.production),
      latest: Number(fields!.latest),
    };
  }

  async get(id: string): Promise<TemplateRecord | null> {
    const fields = await this.#redis.hgetall<Record<string, unknown>>(metaKey(id));
    const record = parseJson<StoredRecord>(fields?.record);
    if (!record) return null;
    return present(record, {
      latest: Number(fields!.latest),
      production: Number(fields!.production),
      updatedAt: String(fields!.updatedAt),
    });
  }

  async version(id: string, n: number): Promise<TemplateVersion | null> {
    return parseJson<TemplateVersion>(await this.#redis.hget(versionsKey(id), String(n)));
  }

  /** Every version, oldest first. */
  async versions(id: string): Promise<TemplateVersion[]> {
    const all = await this.#redis.hgetall<Record<string, unknown>>(versionsKey(id));
    return Object.values(all ?? {})
      .map((v) => parseJson<TemplateVersion>(v))
      .filter((v): v is TemplateVersion => v !== null)
      .sort((a, b) => a.version - b.version);
  }

  /** Every template (optionally one tenant's), by creation time. */
  async list(tenant?: string | null): Promise<TemplateRecord[]> {
    const ids = await this.#redis.smembers(IDS);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records
      .filter((r): r is TemplateRecord => r !== null)
      .filter((r) => tenant === undefined || r.tenant === tenant)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}

function present(
  record: StoredRecord,
  state: Pick<TemplateRecord, 'latest' | 'production' | 'updatedAt'>,
): TemplateRecord {
  const { uid: _, ...shown } = record;
  return { ...shown, ...state };
}

/** `pmpt_` + 32 hex characters, like OpenAI's prompt ids. */
function newTemplateId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `pmpt_${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** @upstash/redis deserializes JSON strings by itself; accept both forms. */
function parseJson<T>(raw: unknown): T | null {
  if (raw === null || raw === undefined || raw === '') return null;
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as T;
}
