/**
 * The text scanner: a list of stages (one detector and the action of its check each), applied
 * one after the other, to a whole text (`scanText`) or to a text that arrives in pieces
 * (`StreamScanner`). Pure and synchronous.
 *
 * The stream scanner's output, concatenated, equals `scanText` of the concatenated input,
 * whatever the chunk boundaries (tested property). Each stage emits text as soon as no match
 * can begin in it and holds back only the tail where one could: a position is held when it
 * is within `maxChars` of the end, every character after it may belong to a match
 * (`inMatch`), and the text from it is, or begins, one of the detector's `starts`. Stages are
 * chained, so a stream holds back at most the sum of its stages' tails. A stage runs its
 * pattern over its held text and the new piece only when they contain what every match
 * contains (`needs`); otherwise it only moves its hold. Matches are found as
 * the pattern's own global scan finds them (a match that fails its checksum is skipped whole),
 * so both modes see the same matches. A text without what a stage `needs` skips it in both.
 */
import { type Detector, escapeRegex } from './detectors.ts';

export type Action = 'block' | 'mask' | 'flag';

export interface Stage {
  detector: Detector;
  action: Action;
  /** Where its findings are counted: the policy and check it comes from. */
  tally: Tally;
}

/** Findings of one check (of one policy) on one side: what the log line and the usage event
 * record (never the matched text). */
export interface GuardrailDecision {
  policy: string;
  check: string;
  action: Action;
  on: 'request' | 'response';
  matches: number;
  /** A webhook that could not be asked: its fail mode decided. */
  outcome?: 'failed_open' | 'failed_closed';
}

export type Tally = GuardrailDecision;

/** Characters before a held position kept for the patterns' lookbehinds. */
const CONTEXT = 32;

export interface ScanOptions {
  /** Count findings in the stages' tallies. Default true (false: re-masking a text whose
   * findings were already counted, e.g. a stream's final event). */
  count?: boolean;
}

/** The text with every stage applied; `blocked` names the first block stage that matched. */
export function scanText(
  text: string,
  stages: readonly Stage[],
  options: ScanOptions = {},
): { text: string; blocked: Tally | undefined } {
  let blocked: Tally | undefined;
  for (const stage of stages) {
    const { needs } = planOf(stage.detector);
    if (needs && !found(needs, text, 0)) continue;
    const out = runStage(stage, '', text, text.length, options.count !== false);
    text = out.text;
    blocked ??= out.blocked;
  }
  return { text, blocked };
}

/**
 * One stage over `ctx + text`, emitting matches that start before `holdFrom` (an index in
 * `text`). Returns the output for text[0, cut) and `cut`.
 */
function runStage(
  stage: Stage,
  ctx: string,
  text: string,
  holdFrom: number,
  count: boolean,
): { text: string; cut: number; blocked: Tally | undefined } {
  const { pattern, valid, placeholder, find, notAfter } = stage.detector;
  const work = ctx + text;
  const off = ctx.length;
  const next = find
    ? (from: number) => find(work, from)
    : (from: number) => {
        pattern.lastIndex = from;
        return pattern.exec(work);
      };
  let out = '';
  /** Copied up to here; every match so far ends at or before `end`. */
  let pos = off;
  let end = off;
  let blocked: Tally | undefined;
  let from = off;
  for (let m = next(from); m; m = next(from)) {
    if (m.index - off >= holdFrom) break;
    // the lookbehind, outside the pattern: refused here, the search goes on one further
    if (m[0].length === 0 || (notAfter && m.index > 0 && notAfter.test(work[m.index - 1]!))) {
      from = m.index + 1;
      continue;
    }
    end = m.index + m[0].length;
    from = end;
    if (valid && !valid(m[0])) continue;
    if (count) stage.tally.matches++;
    if (stage.action === 'block') blocked ??= stage.tally;
    if (stage.action !== 'mask') continue;
    out += work.slice(pos, m.index) + placeholder;
    pos = end;
  }
  const cut = Math.max(end - off, Math.min(holdFrom, text.length));
  out += work.slice(pos, off + cut);
  return { text: out, cut, blocked };
}

/** A detector as the stream scanner uses it (made once per detector): `inMatch` as a table
 * of ASCII codes, `starts`' first characters, `needs` as a global search (run from an index). */
interface Plan {
  detector: Detector;
  /** 1 where an ASCII code may be in a match; undefined without `inMatch`. */
  ascii: Uint8Array | undefined;
  firsts: Set<number>;
  longest: number;
  needs: RegExp | undefined;
  /** Case-insensitive patterns: where a start is, or begins and runs to the end, by the
   * pattern's own flags (so the engine's case folding: a lower-cased copy of the text can
   * differ from it in length, and in what it folds, e.g. `ſ` matching `s` under `iu`). */
  folded: { start: RegExp; prefix: RegExp } | undefined;
}

const plans = new WeakMap<Detector, Plan>();

function planOf(detector: Detector): Plan {
  let plan = plans.get(detector);
  if (!plan) {
    const { inMatch, needs, starts = [] } = detector;
    plan = {
      detector,
      ascii:
        inMatch &&
        Uint8Array.from({ length: 128 }, (_, c) => (inMatch.test(String.fromCharCode(c)) ? 1 : 0)),
      firsts: new Set(starts.map((s) => s.charCodeAt(0))),
      longest: Math.max(0, ...starts.map((s) => s.length)),
      needs: needs && new RegExp(needs.source, `${needs.flags.replace(/[gy]/g, '')}g`),
      folded: detector.pattern.ignoreCase && starts.length > 0 ? foldedStarts(detector) : undefined,
    };
    plans.set(detector, plan);
  }
  return plan;
}

/** `re` (global) is found in `text` at or after `from`. */
function found(re: RegExp, text: string, from: number): boolean {
  re.lastIndex = from;
  return re.test(text);
}

/** The first index of `text[start, end)` at which a match could begin and not be complete
 * yet (an index in `text`). */
function holdFrom(plan: Plan, text: string, start: number, end: number): number {
  const { detector: d, ascii } = plan;
  let from = Math.max(start, end - d.maxChars + 1);
  if (ascii) {
    let i = end;
    for (; i > from; i--) {
      const c = text.charCodeAt(i - 1);
      if (c < 128 ? ascii[c] === 0 : !d.inMatch!.test(text[i - 1]!)) break;
    }
    from = i;
  }
  if (!d.starts || from === end) return from;
  if (!plan.folded) return firstStart(plan, text, from, end);
  return from + firstFoldedStart(plan, plan.folded, text.slice(from, end));
}

function foldedStarts(d: Detector): { start: RegExp; prefix: RegExp } {
  const flags = d.pattern.flags.replace(/[gy]/g, '');
  const chars = (s: string) => [...s].map(escapeRegex);
  // `abc` begins the text's end: `a(?:b(?:c)?)?$`
  const prefixOf = (s: string) => chars(s).reduceRight((rest, c) => `${c}(?:${rest})?`, '');
  return {
    start: new RegExp(d.starts!.map(escapeRegex).join('|'), `${flags}g`),
    prefix: new RegExp(`(?:${d.starts!.map(prefixOf).join('|')})$`, `${flags}y`),
  };
}

/** `firstStart` for a case-insensitive pattern, in `tail` (the text to its end). */
function firstFoldedStart(plan: Plan, folded: NonNullable<Plan['folded']>, tail: string): number {
  folded.start.lastIndex = 0;
  const first = folded.start.exec(tail)?.index ?? tail.length;
  for (let q = Math.max(0, tail.length - plan.longest + 1); q < first; q++) {
    folded.prefix.lastIndex = q;
    if (folded.prefix.test(tail)) return q;
  }
  return first;
}

/** The first index of `text[from, end)` where one of the plan's `starts` is, or begins and
 * runs to `end`; `end` when none. */
function firstStart(plan: Plan, text: string, from: number, end: number): number {
  const starts = plan.detector.starts!;
  let first = end;
  for (const s of starts) {
    const at = text.indexOf(s, from);
    if (at >= 0 && at < first && at + s.length <= end) first = at;
  }
  for (let q = Math.max(from, end - plan.longest + 1); q < first; q++) {
    if (!plan.firsts.has(text.charCodeAt(q))) continue;
    for (const s of starts) if (s.length > end - q && beginsAt(text, s, q, end)) return q;
  }
  return first;
}

/** `text[at, end)` is the beginning of `s` (no substring made). */
function beginsAt(text: string, s: string, at: number, end: number): boolean {
  for (let j = at; j < end; j++) if (text.charCodeAt(j) !== s.charCodeAt(j - at)) return false;
  return true;
}

/** One stage over a text in pieces: what it holds back, and the characters before that (for
 * the patterns' lookbehinds). */
class StageStream {
  ctx = '';
  pending = '';
  private readonly stage: Stage;
  private readonly plan: Plan;
  constructor(stage: Stage, plan: Plan) {
    this.stage = stage;
    this.plan = plan;
  }

  push(chunk: string, final: boolean): { text: string; blocked: Tally | undefined } {
    const text = this.pending + chunk;
    const { needs } = this.plan;
    const hold = final ? text.length : holdFrom(this.plan, text, 0, text.length);
    // without what every match contains, the text holds none: no pattern run
    const out =
      needs && !found(needs, text, 0)
        ? { text: text.slice(0, hold), cut: hold, blocked: undefined }
        : runStage(this.stage, this.ctx, text, hold, true);
    this.ctx =
      out.cut >= CONTEXT
        ? text.slice(out.cut - CONTEXT, out.cut)
        : (this.ctx + text.slice(0, out.cut)).slice(-CONTEXT);
    this.pending = text.slice(out.cut);
    return out;
  }
}

/**
 * The stages over one text that arrives in pieces (one content block, one choice).
 *
 * The first stages (`raw` of them) have only ever been given the input itself lately: what
 * they hold is a slice of `buf` (the input's recent text), stage `s` holding
 * `buf[at[s], at[s - 1])` (the first one, to the end), its lookbehind context the
 * `CONTEXT` characters before. While the new text holds nothing any of them `needs`, they
 * only move their `at` (a hold computed in place): no copy, no pattern run. The first stage
 * that could match, and the ones after it, run as strings (`StageStream`), until what they
 * hold is again the input's own text.
 */
export class StreamScanner {
  private readonly plans: readonly Plan[];
  private readonly chain: StageStream[];
  private raw: number;
  private readonly at: number[];
  private buf = '';
  /** Where `buf` begins in the input. */
  private bufFrom = 0;
  /** All the stages' `needs` in one search per flag set (none when a stage has no `needs`). */
  private readonly anyNeeds: RegExp[];
  blocked: Tally | undefined;

  constructor(stages: readonly Stage[]) {
    this.plans = stages.map((s) => planOf(s.detector));
    this.chain = stages.map((s, i) => new StageStream(s, this.plans[i]!));
    this.raw = stages.length;
    this.at = stages.map(() => 0);
    this.anyNeeds = combinedNeeds(stages.map((s) => s.detector));
  }

  /** The text that is final after this piece (possibly empty). */
  push(chunk: string): string {
    const before = this.buf.length;
    this.buf += chunk;
    const { buf, at, plans } = this;
    // stage s's text is buf[at[s], end), of which buf[at[s], oldEnd) was held before
    let end = buf.length;
    let oldEnd = before;
    let s = 0;
    const none =
      this.anyNeeds.length > 0 &&
      this.raw > 0 &&
      !this.anyNeeds.some((re) => found(re, buf, at[this.raw - 1]!));
    for (; s < this.raw; s++) {
      const plan = plans[s]!;
      if (!none && (!plan.needs || found(plan.needs, buf, at[s]!))) break;
      const hold = holdFrom(plan, buf, at[s]!, end);
      oldEnd = at[s]!;
      at[s] = hold;
      end = hold;
    }
    const text = buf.slice(oldEnd, end);
    if (s < this.raw) this.toStrings(s, oldEnd);
    const out = this.run(s, text, false);
    this.toRaw();
    return out;
  }

  /** The held-back rest, once the text is over. */
  flush(): string {
    this.toStrings(0, this.buf.length);
    return this.run(0, '', true);
  }

  /** Characters held back across all stages. */
  get held(): number {
    const raw = this.raw > 0 ? this.buf.length - this.at[this.raw - 1]! : 0;
    return this.chain.slice(this.raw).reduce((n, s) => n + s.pending.length, raw);
  }

  /** Stages from `from` on, as strings, from `from` (whose held text ends at `end`). */
  private toStrings(from: number, end: number): void {
    for (let s = from; s < this.raw; s++) {
      const at = this.at[s]!;
      const stage = this.chain[s]!;
      stage.pending = this.buf.slice(at, s === from ? end : this.at[s - 1]);
      stage.ctx = this.buf.slice(Math.max(0, at - CONTEXT), at);
    }
    this.raw = Math.min(this.raw, from);
  }

  /** Stages back to slices of `buf` while what they hold is the input's own text; `buf` cut
   * to what the stages as strings could still be found in. */
  private toRaw(): void {
    const { buf, at, chain } = this;
    while (this.raw < chain.length) {
      const { pending, ctx } = chain[this.raw]!;
      const from = (this.raw === 0 ? buf.length : at[this.raw - 1]!) - pending.length;
      const ok =
        from - ctx.length >= 0 &&
        ctx.length === Math.min(CONTEXT, this.bufFrom + from) &&
        buf.startsWith(pending, from) &&
        buf.startsWith(ctx, from - ctx.length);
      if (!ok) break;
      at[this.raw++] = from;
    }
    let keep = (this.raw === 0 ? buf.length : at[this.raw - 1]!) - CONTEXT;
    for (let s = this.raw; s < chain.length; s++) keep -= chain[s]!.pending.length;
    if (keep <= 0) return;
    this.buf = buf.slice(keep);
    this.bufFrom += keep;
    for (let s = 0; s < this.raw; s++) at[s]! -= keep;
  }

  private run(from: number, chunk: string, final: boolean): string {
    let text = chunk;
    for (let s = from; s < this.chain.length; s++) {
      if (text === '' && !final) break; // nothing new reaches the later stages
      const out = this.chain[s]!.push(text, final);
      text = out.text;
      this.blocked ??= out.blocked;
    }
    return text;
  }
}

const combined = new Map<string, RegExp[]>();

/** One global search per flag set for any of the detectors' `needs` (made once per set of
 * them); none when one has none. */
function combinedNeeds(detectors: readonly Detector[]): RegExp[] {
  if (detectors.some((d) => !d.needs)) return [];
  const key = detectors.map((d) => `${d.needs!.flags}/${d.needs!.source}`).join('\n');
  let searches = combined.get(key);
  if (!searches) {
    const byFlags = new Map<string, Set<string>>();
    for (const { needs } of detectors) {
      const flags = needs!.flags.replace(/[gy]/g, '');
      byFlags.set(flags, (byFlags.get(flags) ?? new Set()).add(`(?:${needs!.source})`));
    }
    searches = [...byFlags].map(
      ([flags, sources]) => new RegExp([...sources].join('|'), `${flags}g`),
    );
    combined.set(key, searches);
  }
  return searches;
}
