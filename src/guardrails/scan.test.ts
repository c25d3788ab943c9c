import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guardrailsSchema } from '../config/index.ts';
import { compiledPolicies } from './compile.ts';
import { PII_DETECTORS, SECRET_DETECTORS } from './detectors.ts';
import { type Action, type Stage, StreamScanner, scanText } from './scan.ts';

/** The stages of one policy made of `checks` (as the config would give them). */
function stagesOf(checks: unknown[]): Stage[] {
  const config = guardrailsSchema.parse({ policies: { p: { checks } } });
  return compiledPolicies(config)
    .get('p')!
    .flatMap((check) => {
      const tally = {
        policy: 'p',
        check: check.name,
        action: check.action as Action,
        on: 'response' as const,
        matches: 0,
      };
      return check.detectors.map((detector) => ({ detector, action: check.action, tally }));
    });
}

const mask = (type: string, extra: Record<string, unknown> = {}) =>
  stagesOf([{ type, action: 'mask', ...extra }]);
const masked = (text: string, stages: Stage[]) => scanText(text, stages).text;

function streamed(pieces: string[], stages: Stage[]): string {
  const scanner = new StreamScanner(stages);
  return pieces.map((p) => scanner.push(p)).join('') + scanner.flush();
}

/** `text` cut at the given offsets (any order, duplicates allowed). */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

const PRIVATE_KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF',
  '-----END RSA PRIVATE KEY-----',
].join('\n');
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('PII detectors: true and false positives', () => {
  const cases: [entity: string, hits: string[], misses: string[]][] = [
    ['email', ['john.doe@example.com', 'a+tag@mail.co.uk'], ['john@localhost', '@example.com']],
    [
      'phone',
      ['+1 415 555 2671', '(415) 555-2671', '415-555-2671', '+44 20 7946 0958'],
      ['2024-01-15', '12345', '+12 34'],
    ],
    [
      'credit_card',
      ['4111 1111 1111 1111', '4242-4242-4242-4242', '5555555555554444'],
      ['4111 1111 1111 1112', '1234 5678 9012 3456', '4242'],
    ],
    [
      'iban',
      ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR1420041010050500013M02606'],
      ['DE89 3704 0044 0532 0130 01', 'GB82WEST12345698765433'],
    ],
    [
      'ip',
      ['192.168.1.1', '8.8.8.8', '2001:db8::1', 'fe80::1ff:fe23:4567:890a'],
      ['999.1.1.1', '1.2.3', '12:30:45'],
    ],
    [
      'us_ssn',
      ['123-45-6789', '078-05-1120'],
      ['666-12-3456', '000-12-3456', '123-00-4567', '900-12-3456'],
    ],
    ['es_dni', ['12345678Z', 'X1234567L'], ['12345678A', 'X1234567A']],
    ['it_fiscal_code', ['RSSMRA85T10A562S'], ['RSSMRA85T10A562T']],
    ['pl_pesel', ['44051401359'], ['44051401358']],
    ['fi_hetu', ['131052-308T'], ['131052-308U']],
  ];
  for (const [entity, hits, misses] of cases) {
    it(entity, () => {
      const stages = mask('pii', { entities: [entity] });
      for (const hit of hits) {
        const { text } = scanText(`see ${hit} here`, stages);
        expect(text, hit).not.toContain(hit);
        expect(text, hit).toMatch(/^see \[[A-Z_]+\] here$/);
      }
      for (const miss of misses)
        expect(masked(`see ${miss} here`, stages), miss).toBe(`see ${miss} here`);
      expect(stages[0]!.tally.matches).toBe(hits.length);
    });
  }

  it('typed placeholders', () => {
    const stages = mask('pii');
    expect(masked('mail john.doe@example.com, card 4111 1111 1111 1111, ip 10.0.0.1', stages)).toBe(
      'mail [EMAIL], card [CREDIT_CARD], ip [IP_ADDRESS]',
    );
  });
});

describe("detectors' shortcuts give the pattern's own results", () => {
  const detectors = [...Object.values(PII_DETECTORS), ...Object.values(SECRET_DETECTORS)];
  const text = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '192.168.1.1',
          '10.0.0.256',
          '2001:db8::1',
          'fe80::1ff:fe23:4567:890a',
          '12:30:45',
          '1.2.3',
          'john.doe@example.com',
          '4111 1111 1111 1111',
          'sk-ant-api03-',
          'AKIA',
        ),
        fc.string({
          unit: fc.constantFrom('a', 'f', 'Z', '0', '1', '9', ' ', '.', ':', '-', '@', '_', 'é'),
        }),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join(''));
  type Found = { index: number; 0: string } | null;
  /** The matches from `from`, a refused one (`notAfter`) searched again one further on. */
  const accepted = (
    search: (from: number) => Found,
    t: string,
    from: number,
    notAfter?: RegExp,
  ) => {
    const out: { index: number; text: string }[] = [];
    for (let m = search(from); m; m = search(from)) {
      if (notAfter && m.index > 0 && notAfter.test(t[m.index - 1]!)) {
        from = m.index + 1;
        continue;
      }
      out.push({ index: m.index, text: m[0] });
      from = m.index + Math.max(1, m[0].length);
    }
    return out;
  };

  it('a detector with its own search finds what its pattern finds, from any index (property)', () => {
    const searching = detectors.filter((d) => 'find' in d);
    expect(searching.map((d) => d.entity)).toEqual(['email', 'ip']);
    fc.assert(
      fc.property(text, fc.nat(), (t, n) => {
        const from = n % (t.length + 1);
        for (const d of searching) {
          const scan = (at: number) => {
            d.pattern.lastIndex = at;
            return d.pattern.exec(t);
          };
          expect(
            accepted((at) => d.find(t, at), t, from, d.notAfter),
            d.entity,
          ).toEqual(accepted(scan, t, from, d.notAfter));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('every match contains what its detector `needs` (property)', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const d of detectors) {
          for (const m of t.matchAll(d.pattern)) expect(m[0], d.entity).toMatch(d.needs);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('secret detectors: true and false positives', () => {
  const cases: [kind: string, hits: string[], misses: string[]][] = [
    [
      'openai_key',
      ['sk-proj-abcdefghijklmnopqrstuvwxyz0123456789', 'sk-abcdefghijklmnopqrstuvwxyzAB'],
      ['sk-short', 'task-abcdefghijklmnopqrstuvwxyz'],
    ],
    ['anthropic_key', [`sk-ant-api03-${'a1B2'.repeat(24)}`], ['sk-ant-api03-short']],
    ['google_api_key', [`AIza${'x'.repeat(35)}`], [`AIza${'x'.repeat(20)}`]],
    [
      'aws_access_key',
      ['AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A'],
      ['AKIAIOSFODNN7', 'XKIAIOSFODNN7EXAMPLE'],
    ],
    [
      'aws_secret_key',
      ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
      ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ],
    [
      'github_token',
      [`ghp_${'A1b2'.repeat(9)}`, `github_pat_${'x'.repeat(30)}`],
      [`ghp_${'a'.repeat(10)}`],
    ],
    ['private_key', [PRIVATE_KEY], ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----']],
    ['jwt', [JWT], ['eyJhbGciOiJIUzI1NiJ9', 'eyJ.eyJ.abc']],
  ];
  for (const [kind, hits, misses] of cases) {
    it(kind, () => {
      const stages = mask('secrets', { kinds: [kind] });
      for (const hit of hits)
        expect(masked(`x ${hit} y`, stages), hit).toMatch(/^x \[[A-Z_]+\] y$/);
      for (const miss of misses) expect(masked(`x ${miss} y`, stages), miss).toBe(`x ${miss} y`);
    });
  }
});

describe('keyword and regex lists', () => {
  it('keywords match whole words, case-insensitively by default', () => {
    const stages = mask('keywords', { words: ['project zeus', 'acme'] });
    expect(masked('ACME runs Project Zeus; acmesoft does not', stages)).toBe(
      '[REDACTED] runs [REDACTED]; acmesoft does not',
    );
  });

  it('regex patterns with their placeholder', () => {
    const stages = mask('regex', { patterns: ['ORD-\\d{6}'], placeholder: '[ORDER]' });
    expect(masked('order ORD-123456 and ORD-12', stages)).toBe('order [ORDER] and ORD-12');
  });

  it('flag counts and changes nothing; block names its check', () => {
    const stages = stagesOf([
      { type: 'pii', action: 'flag', entities: ['email'] },
      { type: 'secrets', action: 'block', name: 'no-keys' },
    ]);
    const out = scanText('a@b.io and c@d.io, AKIAIOSFODNN7EXAMPLE', stages);
    expect(out.text).toBe('a@b.io and c@d.io, AKIAIOSFODNN7EXAMPLE');
    expect(stages[0]!.tally.matches).toBe(2);
    expect(out.blocked?.check).toBe('no-keys');
  });
});

describe('the stream scanner', () => {
  const all = stagesOf([
    { type: 'pii', action: 'mask' },
    { type: 'secrets', action: 'mask' },
    { type: 'keywords', action: 'mask', words: ['top secret'] },
  ]);
  const samples = [
    'write to john.doe@example.com today',
    'card 4111 1111 1111 1111 expires',
    'IBAN DE89 3704 0044 0532 0130 00 please',
    `token ${JWT} end`,
    `key:\n${PRIVATE_KEY}\ndone`,
    'this is TOP SECRET stuff',
    'call +1 415 555 2671 or 10.0.0.1',
  ];

  for (const sample of samples) {
    it(`a match split across 2, 3 and every-character chunks: ${sample.slice(0, 24)}`, () => {
      const whole = masked(sample, all);
      expect(whole).not.toBe(sample);
      const mid = Math.floor(sample.length / 2);
      expect(streamed([sample.slice(0, mid), sample.slice(mid)], all)).toBe(whole);
      expect(streamed(cut(sample, [mid - 3, mid + 2]), all)).toBe(whole);
      expect(streamed([...sample], all)).toBe(whole);
    });
  }

  it('any chunk boundaries give the same text as masking it whole (property)', () => {
    const fragment = fc.oneof(
      fc.constantFrom(
        ...samples,
        'a@b.io',
        '4242 4242 4242 4242',
        '123-45-6789',
        'sk-',
        '-----BEGIN ',
      ),
      fc.string({
        unit: fc.constantFrom('a', 'Z', '1', '9', ' ', '.', '-', '@', '+', ':', '\n', 'é'),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fragment, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (parts, at) => {
          const text = parts.join('');
          expect(streamed(cut(text, at), all)).toBe(masked(text, all));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a held-back prefix that turns out not to be a match goes out unchanged', () => {
    for (const text of [
      'ask-me later', // `sk-` begins, no key follows
      'note 4111 1111 and more', // a card's first digits
      'mail john.doe@ and then', // an email without a domain
      '-----BEGIN PUBLIC KEY----- x', // a private key's start, not one
      'eyJhbGciOi. short', // a JWT's start
      'top secrets are fine', // a keyword's prefix, not the whole word
    ]) {
      expect(masked(text, all), text).toBe(text);
      expect(streamed([...text], all), text).toBe(text);
      expect(streamed(cut(text, [3, 7, 11]), all), text).toBe(text);
    }
  });

  it('overlapping candidates and matches one after the other, in any pieces', () => {
    const text =
      'a@b.io,c@d.io 4111 1111 1111 1111 4242 4242 4242 4242 123-45-6789 sk-ant-x ' +
      `sk-${'a'.repeat(24)} TOP SECRET top secret ${JWT}${JWT}`;
    const whole = masked(text, all);
    expect(whole).toContain('[EMAIL],[EMAIL]');
    for (const size of [1, 2, 3, 5, 7, 13, 20, 64]) {
      const pieces = text.match(new RegExp(`[^]{1,${size}}`, 'g'))!;
      expect(streamed(pieces, all), `pieces of ${size}`).toBe(whole);
    }
  });

  it('each check alone, in every-character and random pieces', () => {
    const alone = [
      mask('pii'),
      mask('secrets'),
      mask('keywords', { words: ['top secret'] }),
      mask('pii', { entities: ['us_ssn'] }),
    ];
    for (const stages of alone) {
      for (const sample of samples) {
        expect(streamed([...sample], stages), sample).toBe(masked(sample, stages));
        expect(streamed(cut(sample, [5, 9, 17]), stages), sample).toBe(masked(sample, stages));
      }
    }
  });

  it("case-insensitive starts are held by the engine's own folding, in any pieces", () => {
    // `ſ` (long s) matches `s` and `K` (Kelvin sign) matches `k` under `iu`; `İ` lower-cases
    // to two characters, which must not shift where the hold begins
    const stages = mask('keywords', { words: ['secret', 'kilo'] });
    for (const sample of ['the ſecret word', 'a \u212Ailo of it', 'İİ secret.', 'İİ ſECRET']) {
      const whole = masked(sample, stages);
      expect(whole, sample).toContain('[REDACTED]');
      expect(streamed([...sample], stages), sample).toBe(whole);
      for (let at = 1; at < sample.length; at++)
        expect(streamed(cut(sample, [at]), stages), `${sample} at ${at}`).toBe(whole);
    }
  });

  it('a lookbehind sees what the earlier stage put in, not the input', () => {
    // `_x` after `]` is a whole word, after `Q` it is not
    const stages = [
      ...mask('regex', { patterns: ['QQQ'], placeholder: '[Q]', maxMatchChars: 3 }),
      ...mask('keywords', { words: ['_x'], caseSensitive: true }),
    ];
    const text = 'QQQ_x and more text';
    expect(masked(text, stages)).toBe('[Q][REDACTED] and more text');
    expect(streamed([...text], stages)).toBe('[Q][REDACTED] and more text');
  });

  it('stages that match what an earlier stage put in (placeholders), and custom regexes', () => {
    const chained = [
      ...mask('pii', { entities: ['email'] }),
      ...mask('regex', { patterns: ['\\[EMAIL\\]\\s+\\d+'], placeholder: '[X]' }),
      ...mask('keywords', { words: ['email'], caseSensitive: true }),
      ...mask('pii', { entities: ['us_ssn'] }),
      ...mask('regex', { patterns: ['QQQ'], placeholder: '[Q]', maxMatchChars: 3 }),
      ...mask('keywords', { words: ['_x'], caseSensitive: true }),
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'a@b.io ',
            '12 ',
            'email ',
            'EMAIL ',
            '123-45-6789',
            'QQQ',
            '_x',
            'x',
            ' ',
          ),
          {
            maxLength: 12,
          },
        ),
        fc.array(fc.nat(), { maxLength: 16 }),
        (parts, at) => {
          const text = parts.join('');
          expect(streamed(cut(text, at), chained)).toBe(masked(text, chained));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds back only what could start a match, never the whole stream', () => {
    const scanner = new StreamScanner(all);
    const prose = 'The weather report says it will be sunny, with light winds. '.repeat(35);
    let out = '';
    for (let i = 0; i < prose.length; i += 97) out += scanner.push(prose.slice(i, i + 97));
    // only the last word and what follows it may be held (an ID, a phone number could go on)
    expect(scanner.held).toBeLessThanOrEqual('winds. '.length);
    expect(out).toBe(prose.slice(0, prose.length - scanner.held));
    const rest = prose.slice(prose.length - scanner.held);
    const before = scanner.push('mail me at john');
    expect(`${rest}mail me at john`.startsWith(before)).toBe(true);
    // an email may be under way: at most the words it could span are held
    expect(scanner.held).toBeLessThanOrEqual('at john'.length);
    const after = scanner.push('.doe@example.com and more') + scanner.flush();
    expect(before + after).toBe(`${rest}mail me at [EMAIL] and more`);
  });
});
