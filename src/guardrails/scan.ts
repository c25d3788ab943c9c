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
 * chained, so a stream holds back at most the sum of its stages' tails. Matches are found as
 * the pattern's own global scan finds them (a match that fails its checksum is skipped whole),
 * so both modes see the same matches.
 */
import type { Detector } from './detectors.ts';

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

/** The first index of `text` at which a match of `d` could begin and not be complete yet. */
export function holdFrom(d: Detector, text: string): number {
  let from = Math.max(0, text.length - d.maxChars + 1);
  if (d.inMatch) {
    let i = text.length;
    while (i > from && d.inMatch.test(text[i - 1]!)) i--;
    from = i;
  }
  if (!d.starts || from === text.length) return from;
  const tail = d.pattern.ignoreCase ? text.slice(from).toLowerCase() : text.slice(from);
  let first = tail.length;
  for (const s of d.starts) {
    const at = tail.indexOf(s);
    if (at >= 0 && at < first) first = at;
    for (let k = Math.min(s.length - 1, tail.length); k > 0; k--) {
      if (tail.length - k < first && tail.endsWith(s.slice(0, k))) {
        first = tail.length - k;
        break;
      }
    }
  }
  return from + first;
}

/** One stage over a text in pieces. */
class StageStream {
  private ctx = '';
  private pending = '';
  private readonly stage: Stage;
  constructor(stage: Stage) {
    this.stage = stage;
  }

  push(chunk: string, final: boolean): { text: string; blocked: Tally | undefined } {
    const text = this.pending + chunk;
    const hold = final ? text.length : holdFrom(this.stage.detector, text);
    const out = runStage(this.stage, this.ctx, text, hold, true);
    this.ctx = (this.ctx + text.slice(0, out.cut)).slice(-CONTEXT);
    this.pending = text.slice(out.cut);
    return { text: out.text, blocked: out.blocked };
  }

  get held(): number {
    return this.pending.length;
  }
}

/** The stages over one text that arrives in pieces (one content block, one choice). */
export class StreamScanner {
  private readonly chain: StageStream[];
  blocked: Tally | undefined;

  constructor(stages: readonly Stage[]) {
    this.chain = stages.map((s) => new StageStream(s));
  }

  /** The text that is final after this piece (possibly empty). */
  push(chunk: string): string {
    return this.run(chunk, false);
  }

  /** The held-back rest, once the text is over. */
  flush(): string {
    return this.run('', true);
  }

  /** Characters held back across all stages. */
  get held(): number {
    return this.chain.reduce((n, s) => n + s.held, 0);
  }

  private run(chunk: string, final: boolean): string {
    let text = chunk;
    for (const stage of this.chain) {
      const out = stage.push(text, final);
      text = out.text;
      this.blocked ??= out.blocked;
    }
    return text;
  }
}
