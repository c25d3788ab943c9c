import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  ROOT_CONTEXT,
  type SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSpans } from './span-encoder.ts';

const ended: ReadableSpan[] = [];
const processor = {
  onStart() {},
  onEnd(span: ReadableSpan) {
    ended.push(span);
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
const providers = [
  new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'edge', 'service.instance.id': 'i-1' }),
    spanProcessors: [processor],
  }),
  new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'other-ü' }),
    spanProcessors: [processor],
  }),
];
const tracers = [
  providers[0]!.getTracer('edge-llm-gateway'),
  providers[0]!.getTracer('scope-two', '1.2.3'),
  providers[1]!.getTracer('edge-llm-gateway'),
];

// Strings of every kind the encoder treats apart: ASCII, multi-byte, astral, lone surrogates,
// and long enough for a two-byte length.
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', 'chat m', 'gen_ai.request.model', 'ümlaut', '😀', '\uD800x', 'x\uDFFF'),
  fc.string({ minLength: 130, maxLength: 300 }),
);
const value: fc.Arbitrary<AttributeValue> = fc.oneof(
  text,
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 32, 2 ** 40, -(2 ** 40), 2 ** 53 - 1, 2 ** 63, -0),
  fc.double({ noNaN: true }),
  fc.array(text, { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 3 }),
);
const attributes: fc.Arbitrary<Attributes> = fc.dictionary(
  fc.oneof(text, fc.constantFrom('gen_ai.usage.input_tokens', 'server.port')),
  value,
  { maxKeys: 8 },
);
const hrTime = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 999_999_999 }))
  .map(([s, n]) => [s, n] as [number, number]);
const id = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));

const spanSpec = fc.record({
  tracer: fc.integer({ min: 0, max: tracers.length - 1 }),
  name: text,
  kind: fc.constantFrom(...([0, 1, 2, 3, 4] as SpanKind[])),
  attributes,
  parent: fc.option(
    fc.record({
      traceId: id(16),
      spanId: id(8),
      traceFlags: fc.constantFrom(0, 1),
      isRemote: fc.option(fc.boolean(), { nil: undefined }),
      traceState: fc.option(fc.constantFrom('vendor=abc', 'a=1,b=2'), { nil: undefined }),
    }),
    { nil: undefined },
  ),
  start: hrTime,
  events: fc.array(fc.record({ name: text, attributes: fc.option(attributes), at: hrTime }), {
    maxLength: 3,
  }),
  links: fc.array(fc.record({ traceId: id(16), spanId: id(8), attributes }), { maxLength: 2 }),
  status: fc.option(
    fc.record({
      code: fc.constantFrom(SpanStatusCode.OK, SpanStatusCode.ERROR),
      message: fc.option(text, { nil: undefined }),
    }),
    { nil: undefined },
  ),
  endAfterNs: fc.integer({ min: 0, max: 10 ** 9 }),
});

function build(spec: SpanSpec): void {
  let parent: Context = ROOT_CONTEXT;
  if (spec.parent) {
    const { traceState, ...rest } = spec.parent;
    parent = trace.setSpanContext(ROOT_CONTEXT, {
      ...rest,
      ...(traceState ? { traceState: new TraceState(traceState) } : {}),
    });
  }
  const span = tracers[spec.tracer]!.startSpan(
    spec.name,
    {
      kind: spec.kind,
      attributes: spec.attributes,
      startTime: spec.start,
      links: spec.links.map((l) => ({
        context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 1 },
        attributes: l.attributes,
      })),
    },
    parent,
  );
  for (const e of spec.events) {
    if (e.attributes) span.addEvent(e.name, e.attributes, e.at);
    else span.addEvent(e.name, e.at);
  }
  if (spec.status) span.setStatus(spec.status);
  const [s, n] = spec.start;
  const end = n + spec.endAfterNs;
  span.end([s + Math.floor(end / 1e9), end % 1e9]);
}
type SpanSpec = typeof spanSpec extends fc.Arbitrary<infer T> ? T : never;

function spansOf(specs: readonly SpanSpec[]): ReadableSpan[] {
  ended.length = 0;
  context.with(ROOT_CONTEXT, () => {
    for (const spec of specs) build(spec);
  });
  return ended.splice(0);
}

describe('encodeSpans', () => {
  it('writes the bytes otlp-transformer`s ProtobufTraceSerializer writes, for any spans', () => {
    fc.assert(
      fc.property(fc.array(spanSpec, { maxLength: 6 }), (specs) => {
        const spans = spansOf(specs);
        expect(encodeSpans(spans)).toEqual(ProtobufTraceSerializer.serializeRequest(spans));
      }),
      { numRuns: 300 },
    );
  });

  it('grows past its first buffer, and messages past 16 KB get three-byte lengths', () => {
    const big = fc.sample(spanSpec, { numRuns: 400, seed: 7 });
    const spans = spansOf(big);
    const bytes = encodeSpans(spans);
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    expect(bytes).toEqual(ProtobufTraceSerializer.serializeRequest(spans));
    // and the next, small export does not carry what the big one left in the buffer
    const one = spansOf(big.slice(0, 1));
    expect(encodeSpans(one)).toEqual(ProtobufTraceSerializer.serializeRequest(one));
  });

  it('owns its bytes: a later export does not change an earlier one', () => {
    const [a, b] = [
      spansOf(fc.sample(spanSpec, { numRuns: 3, seed: 1 })),
      spansOf(fc.sample(spanSpec, { numRuns: 3, seed: 2 })),
    ];
    const first = encodeSpans(a);
    const copy = first.slice();
    encodeSpans(b);
    expect(first).toEqual(copy);
  });
});
