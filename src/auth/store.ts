import { type Redis, redisKeys } from '../store/index.ts';
import {
  applyUpdate,
  type CreateKeyInput,
  digestKey,
  displayPrefix,
  generateKey,
  type KeyRecord,
  newKeyId,
  type UpdateKeyInput,
} from './keys.ts';

/**
 * Keys in Redis:
 *   gw:key:<sha256 of the key>  -> the record (JSON)
 *   gw:keyid:<id>               -> the digest (admin lookups by id)
 *   gw:keyids                   -> set of ids (listing)
 *   gw:audit                    -> list of audit entries, newest first (capped)
 */
const AUDIT_MAX = 10_000;

export interface AuditEntry {
  at: string;
  actor: string;
  action:
    | 'key.create'
    | 'key.update'
    | 'key.revoke'
    | 'cache.purge'
    | 'template.create'
    | 'template.version'
    | 'template.production'
    | 'template.delete';
  keyId?: string;
  templateId?: string;
  changes?: unknown;
}

export class KeyStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Creates a key; the only time the plaintext key exists outside the client. */
  async create(input: CreateKeyInput, actor: string, key: string = generateKey()) {
    const now = new Date().toISOString();
    const digest = await digestKey(key);
    const record: KeyRecord = {
      ...input,
      id: newKeyId(),
      prefix: displayPrefix(key),
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
    };
    const tx = this.#redis.multi();
    tx.set(redisKeys.keyRecord(digest), JSON.stringify(record));
    tx.set(redisKeys.keyDigest(record.id), digest);
    tx.sadd(redisKeys.keyIds, record.id);
    rememberOrigins(tx, record);
    this.#audit(tx, { at: now, actor, action: 'key.create', keyId: record.id, changes: input });
    await tx.exec();
    return { key, record };
  }

  /** The record behind a presented key, or null. Does not judge usability. */
  async findByKey(key: string): Promise<KeyRecord | null> {
    return this.findByDigest(await digestKey(key));
  }

  async findByDigest(digest: string): Promise<KeyRecord | null> {
    return this.#read(redisKeys.keyRecord(digest));
  }

  async get(id: string): Promise<KeyRecord | null> {
    const digest = await this.#redis.get<string>(redisKeys.keyDigest(id));
    return digest ? this.#read(redisKeys.keyRecord(digest)) : null;
  }

  async list(): Promise<KeyRecord[]> {
    const ids = await this.#redis.smembers(redisKeys.keyIds);
    if (ids.length === 0) return [];
    const digests = await this.#redis.mget<(string | null)[]>(
      ...ids.map((id) => redisKeys.keyDigest(id)),
    );
    const present = digests.filter((d): d is string => typeof d === 'string');
    if (present.length === 0) return [];
    const raw = await this.#redis.mget<(KeyRecord | string | null)[]>(
      ...present.map((d) => redisKeys.keyRecord(d)),
    );
    return raw
      .map(parseRecord)
      .filter((r): r is KeyRecord => r !== null)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async update(id: string, patch: UpdateKeyInput, actor: string): Promise<KeyRecord | null> {
    return this.#rewrite(id, actor, 'key.update', patch, (r, now) => applyUpdate(r, patch, now));
  }

  /** Revoked keys keep their record (for audit and usage) but never authenticate again. */
  async revoke(id: string, actor: string): Promise<KeyRecord | null> {
    return this.#rewrite(id, actor, 'key.revoke', undefined, (r, now) => ({
      ...r,
      disabled: true,
      revokedAt: r.revokedAt ?? now,
      updatedAt: now,
    }));
  }

  /** Audits an admin action that is not a key change (e.g. a cache purge). */
  async recordAudit(entry: AuditEntry): Promise<void> {
    const tx = this.#redis.multi();
    this.#audit(tx, entry);
    await tx.exec();
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    const raw = await this.#redis.lrange<AuditEntry | string>(redisKeys.audit, 0, limit - 1);
    return raw.map((e) => (typeof e === 'string' ? (JSON.parse(e) as AuditEntry) : e));
  }

  async #rewrite(
    id: string,
    actor: string,
    action: AuditEntry['action'],
    changes: unknown,
    change: (record: KeyRecord, now: string) => KeyRecord,
  ): Promise<KeyRecord | null> {
    const digest = await this.#redis.get<string>(redisKeys.keyDigest(id));
    if (!digest) return null;
    const current = await this.#read(redisKeys.keyRecord(digest));
    if (!current) return null;
    const now = new Date().toISOString();
    const next = change(current, now);
    const tx = this.#redis.multi();
    tx.set(redisKeys.keyRecord(digest), JSON.stringify(next));
    rememberOrigins(tx, next);
    this.#audit(tx, { at: now, actor, action, keyId: id, ...(changes ? { changes } : {}) });
    await tx.exec();
    return next;
  }

  #audit(tx: ReturnType<Redis['multi']>, entry: AuditEntry): void {
    tx.lpush(redisKeys.audit, JSON.stringify(entry));
    tx.ltrim(redisKeys.audit, 0, AUDIT_MAX - 1);
  }

  async #read(redisKey: string): Promise<KeyRecord | null> {
    return parseRecord(await this.#redis.get<KeyRecord | string>(redisKey));
  }
}

/** Origins a key names, for preflights (which carry no key: src/cors). Never removed: a
 * stale entry only lets a preflight through; the answer itself checks the caller's key. */
function rememberOrigins(tx: ReturnType<Redis['multi']>, record: KeyRecord): void {
  const origins = record.allowedOrigins?.map((o) => o.toLowerCase()) ?? [];
  if (origins.length > 0) tx.sadd(redisKeys.corsOrigins, origins[0]!, ...origins.slice(1));
}

/** @upstash/redis deserializes JSON strings by itself; accept both forms. */
function parseRecord(raw: KeyRecord | string | null | undefined): KeyRecord | null {
  if (!raw) return null;
  return typeof raw === 'string' ? (JSON.parse(raw) as KeyRecord) : raw;
}
