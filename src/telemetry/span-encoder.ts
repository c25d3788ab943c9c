/**
 * OTLP/protobuf encoding of spans (an `ExportTraceServiceRequest`) for the edge's exports
 * (./exporter.ts); OTLP/JSON stays with otlp-transformer's `JsonTraceSerializer`.
 *
 * Hand-written beside otlp-transformer's `ProtobufTraceSerializer`, whose bytes it reproduces
 * exactly (same fields in the same order; span-encoder.test.ts compares the two on generated
 * spans): that serializer walks a batch twice, a size estimate and then the write, and looks
 * at every string three times (its UTF-8 length, an ASCII check, a copy a byte at a time),
 * which made the encoding about a quarter of a request's telemetry work on the Worker
 * (bench/README.md, OpenTelemetry). Here one pass writes into a buffer that is kept and grown
 * between exports, each string is copied once (`TextEncoder.encodeInto` from its first
 * non-ASCII character), and attribute keys, a small fixed set, are encoded once per isolate.
 */
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

const LEN = 2; // wire type: length-delimited
const VARINT = 0;
const FIXED64 = 1;
const FIXED32 = 5;
/** Span flags: the parent's `is_remote` is known (bit 8), and true (bit 9). */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
/** Encoded attribute keys kept per isolate at most (past that the memo starts over). */
const MAX_KEYS = 1024;

const utf8 = new TextEncoder();

/** A protobuf writer over one growing buffer. Lengths of nested messages get one byte up
 * front and are widened (the message moved along) in the rare case they need more. */
class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  varint(value: number): void {
    this.ensure(10);
    const { buf } = this;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 127) {
        buf[this.pos++] = (v & 127) | 128;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    // int64 (negative as two's complement), as low and high 32-bit halves
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 4294967296) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 127) {
      buf[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 127;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, low >>> 0, true);
    this.view.setUint32(this.pos + 4, high >>> 0, true);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Reserves a length byte; returns where the message starts (for `end`). */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  end(at: number): void {
    const length = this.pos - at - 1;
    if (length < 128) {
      this.buf[at] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = length;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  /** A string field's value: its UTF-8 bytes, length first. */
  string(s: string): void {
    this.ensure(s.length * 3 + 1);
    const at = this.begin();
    const { buf } = this;
    let p = this.pos;
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) break;
      buf[p++] = c;
    }
    if (i < s.length) p += utf8.encodeInto(s.slice(i), buf.subarray(p)).written;
    this.pos = p;
    this.end(at);
  }

  stringField(field: number, s: string): void {
    this.tag(field, LEN);
    this.string(s);
  }

  varintField(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  idField(field: number, hex: string): void {
    this.tag(field, LEN);
    this.hexId(hex);
  }

  timeField(field: number, time: HrTime): void {
    this.tag(field, FIXED64);
    writeTime(this, time);
  }

  /** A hex id (trace or span id) as its bytes, length first. */
  hexId(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 1);
    this.buf[this.pos++] = n;
    for (let i = 0; i < n; i++) {
      this.buf[this.pos++] =
        (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
    }
  }
}

function varintSize(v: number): number {
  let size = 1;
  while (v > 127) {
    v >>>= 7;
    size++;
  }
  return size;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

/** HrTime [seconds, nanoseconds] as unix nanoseconds in fixed64, without losing precision
 * (the product is past 2^53): seconds split at 16 bits, each part's nanoseconds split at 32. */
function writeTime(w: Writer, [seconds, nanos]: HrTime): void {
  const lowPart = (seconds & 0xffff) * 1e9; // < 2^46
  const highPart = Math.floor(seconds / 65536) * 1e9; // times 2^16
  const low = (lowPart >>> 0) + (highPart % 65536) * 65536 + nanos;
  const high =
    Math.floor(lowPart / 4294967296) + Math.floor(highPart / 65536) + Math.floor(low / 4294967296);
  w.fixed64(low >>> 0, high >>> 0);
}

let keys = new Map<string, Uint8Array>();

/** An attribute key as a KeyValue's field 1 (tag, length, bytes), encoded once. */
function keyField(key: string): Uint8Array {
  let bytes = keys.get(key);
  if (bytes) return bytes;
  const w = new Writer(key.length * 3 + 8);
  w.tag(1, LEN);
  w.string(key);
  bytes = w.buf.slice(0, w.pos);
  if (keys.size >= MAX_KEYS) keys = new Map();
  keys.set(key, bytes);
  return bytes;
}

function writeAttributes(w: Writer, attributes: Attributes, field: number): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    w.tag(field, LEN);
    const kv = w.begin();
    w.raw(keyField(key));
    w.tag(2, LEN);
    const value = w.begin();
    writeAnyValue(w, attributes[key]);
    w.end(value);
    w.end(kv);
  }
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

function writeAnyValue(w: Writer, value: AttributeValue | unknown): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, LEN);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, VARINT);
        w.varint(value);
      } else {
        w.tag(4, FIXED64);
        w.double(value);
      }
      return;
  }
  if (value instanceof Uint8Array) {
    w.tag(7, LEN);
    w.varint(value.length);
    w.raw(value);
  } else if (Array.isArray(value)) {
    w.tag(5, LEN);
    const array = w.begin();
    for (const item of value) {
      w.tag(1, LEN);
      const at = w.begin();
      writeAnyValue(w, item);
      w.end(at);
    }
    w.end(array);
  } else if (typeof value === 'object' && value !== null) {
    w.tag(6, LEN);
    const list = w.begin();
    writeAttributes(w, value as Attributes, 1);
    w.end(list);
  }
}

function spanFlags(context: SpanContext, parentIsRemote: boolean | undefined): number {
  return (context.traceFlags & 0xff) | HAS_IS_REMOTE | (parentIsRemote ? IS_REMOTE : 0);
}

function writeSpan(w: Writer, span: ReadableSpan): void {
  const ctx = span.spanContext();
  w.idField(1, ctx.traceId);
  w.idField(2, ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) w.stringField(3, traceState);
  const parent = span.parentSpanContext;
  if (parent?.spanId) w.idField(4, parent.spanId);
  w.stringField(5, span.name);
  const kind = span.kind == null ? 0 : span.kind + 1; // OTLP counts from UNSPECIFIED
  if (kind !== 0) w.varintField(6, kind);
  w.timeField(7, span.startTime);
  w.timeField(8, span.endTime);
  if (span.attributes) writeAttributes(w, span.attributes, 9);
  w.varintField(10, span.droppedAttributesCount);
  for (const event of span.events) {
    w.tag(11, LEN);
    const at = w.begin();
    w.timeField(1, event.time);
    w.stringField(2, event.name);
    if (event.attributes) writeAttributes(w, event.attributes, 3);
    w.varintField(4, event.droppedAttributesCount || 0);
    w.end(at);
  }
  w.varintField(12, span.droppedEventsCount);
  for (const link of span.links) {
    w.tag(13, LEN);
    const at = w.begin();
    w.idField(1, link.context.traceId);
    w.idField(2, link.context.spanId);
    const linkState = link.context.traceState?.serialize();
    if (linkState) w.stringField(3, linkState);
    if (link.attributes) writeAttributes(w, link.attributes, 4);
    w.varintField(5, link.droppedAttributesCount || 0);
    w.tag(6, FIXED32);
    w.fixed32(spanFlags(link.context, link.context.isRemote));
    w.end(at);
  }
  w.varintField(14, span.droppedLinksCount);
  w.tag(15, LEN);
  const status = w.begin();
  if (span.status.message) w.stringField(2, span.status.message);
  w.varintField(3, span.status.code);
  w.end(status);
  w.tag(16, FIXED32);
  w.fixed32(spanFlags(ctx, parent?.isRemote));
}

/** Spans by resource, then by instrumentation scope (both by identity, in order seen). */
function grouped(spans: readonly ReadableSpan[]) {
  const byResource = new Map<ReadableSpan['resource'], Map<object, ReadableSpan[]>>();
  for (const span of spans) {
    let byScope = byResource.get(span.resource);
    if (!byScope) {
      byScope = new Map();
      byResource.set(span.resource, byScope);
    }
    const list = byScope.get(span.instrumentationScope);
    if (list) list.push(span);
    else byScope.set(span.instrumentationScope, [span]);
  }
  return byResource;
}

/** Made on the first export (nothing is held while telemetry is off), then kept. */
let writer: Writer | undefined;

/** The `ExportTraceServiceRequest` carrying `spans`, as protobuf bytes (a copy the caller
 * owns: the writer's buffer is reused by the next export). */
export function encodeSpans(spans: readonly ReadableSpan[]): Uint8Array {
  writer ??= new Writer(64 * 1024);
  const w = writer;
  w.pos = 0;
  for (const [resource, byScope] of grouped(spans)) {
    w.tag(1, LEN);
    const resourceSpans = w.begin();
    w.tag(1, LEN);
    const res = w.begin();
    if (resource.attributes) writeAttributes(w, resource.attributes, 1);
    w.varintField(2, 0);
    w.end(res);
    for (const list of byScope.values()) {
      const scope = list[0]!.instrumentationScope;
      w.tag(2, LEN);
      const scopeSpans = w.begin();
      w.tag(1, LEN);
      const sc = w.begin();
      w.stringField(1, scope.name);
      if (scope.version) w.stringField(2, scope.version);
      w.end(sc);
      for (const span of list) {
        w.tag(2, LEN);
        const at = w.begin();
        writeSpan(w, span);
        w.end(at);
      }
      if (scope.schemaUrl) w.stringField(3, scope.schemaUrl);
      w.end(scopeSpans);
    }
    if (resource.schemaUrl) w.stringField(3, resource.schemaUrl);
    w.end(resourceSpans);
  }
  return w.buf.slice(0, w.pos);
}
