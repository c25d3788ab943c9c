/**
 * The built-in detectors: what PII and secrets look like, as bounded patterns plus the
 * checksum that separates a real number from a look-alike. Pure data and predicates.
 *
 * Every pattern is bounded (no unbounded quantifier), so no match is longer than `maxChars`:
 * that bound is what lets the stream scanner (./scan.ts) hold back only a short tail of a
 * chunk. `inMatch` (every character a match may contain) and `starts` (literals every match
 * begins with) narrow the tail further to the characters that could be the start of a match.
 * Checksums come from libraries where one is well kept (ibantools: IBAN mod-97; validator:
 * Luhn, Spanish DNI/NIE, Italian codice fiscale, Polish PESEL, Finnish HETU); the US SSN has no check digit, only
 * the SSA's allocation rules, written here.
 */
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import isIdentityCard from 'validator/lib/isIdentityCard.js';
import isLuhnNumber from 'validator/lib/isLuhnNumber.js';
import isTaxID from 'validator/lib/isTaxID.js';

export interface Detector {
  /** What it finds, e.g. `email`: named in decisions. */
  entity: string;
  /** What a masked match becomes, e.g. `[EMAIL]`. */
  placeholder: string;
  /** Global (`g`) pattern. */
  pattern: RegExp;
  /** A match is only a finding when this says so (checksums). */
  valid?: (match: string) => boolean;
  /** Upper bound of a match's length plus the characters its lookahead reads. */
  maxChars: number;
  /** One character a match may contain (tested on single characters). */
  inMatch?: RegExp;
  /** Every match starts with one of these (lower case when the pattern is case-insensitive). */
  starts?: readonly string[];
  /** What every match contains (not global): a text it is not found in holds no match, so
   * the stream scanner does not run the pattern over it. */
  needs?: RegExp;
  /** The character before a match may not be one of these: the pattern's lookbehind, tested
   * outside the pattern so the engine can skip ahead to a possible first character (a
   * leading lookbehind makes it try every position). A refused match is searched again one
   * position on, as a lookbehind would. */
  notAfter?: RegExp;
  /** A faster search giving exactly the matches `pattern`'s global scan gives from `from`
   * (used instead of it when set). */
  find?: (text: string, from: number) => { index: number; 0: string } | null;
}

/** `s` as a literal inside a pattern. */
export const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const digits = (s: string) => s.replace(/\D/g, '');
const DIGIT = /\d/;
const TWO_DIGITS = /\d\d/;

/** SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000. */
export function validSsn(ssn: string): boolean {
  const [area, group, serial] = ssn.split('-');
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

export function validCard(text: string): boolean {
  const n = digits(text);
  return n.length >= 13 && n.length <= 19 && isLuhnNumber(n);
}

export function validIban(text: string): boolean {
  const iban = electronicFormatIBAN(text);
  return iban !== null && isValidIBAN(iban);
}

/** IPv6 validity by the URL parser (web standard): it refuses what is not an address. */
export function validIpv6(text: string): boolean {
  if (!/[0-9a-f]/i.test(text) || (text.match(/:/g)?.length ?? 0) < 2) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

const LOCAL_PART = /[A-Za-z0-9._%+-]/;
const DOMAIN = /[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,6}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/y;

/**
 * The email pattern's matches, found from each `@` outwards: the local part is the run of
 * local-part characters before the `@` (the pattern's lookbehind makes it start where the run
 * does), at most 64 long and not before `from`; the domain is matched in place. Hand-written
 * because a backtracking engine tries the pattern at every position of the text (≈ 50x
 * slower on prose).
 */
export function findEmail(text: string, from: number): { index: number; 0: string } | null {
  for (let at = text.indexOf('@', from); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start <= 64 && LOCAL_PART.test(text[start - 1]!)) start--;
    if (start === at || at - start > 64 || start < from) continue;
    DOMAIN.lastIndex = at + 1;
    const domain = DOMAIN.exec(text);
    if (domain) return { index: start, 0: text.slice(start, DOMAIN.lastIndex) };
  }
  return null;
}

/**
 * A `find` for a pattern whose every match contains an `anchor` character (global search)
 * and, up to it, only `inMatch` characters: only the positions in the run of those before
 * each anchor are tried, in order, so it gives the pattern's global-scan matches. Hand-written
 * because without a literal first character the engine tries the pattern at every position
 * of the text (the IP pattern: ≈ 30 µs per 2 KB of prose).
 */
export function anchoredFind(
  pattern: RegExp,
  anchor: RegExp,
  inMatch: RegExp,
  maxChars: number,
): NonNullable<Detector['find']> {
  const sticky = new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, '')}y`);
  const anchors = new RegExp(anchor.source, `${anchor.flags.replace(/[gy]/g, '')}g`);
  return (text, from) => {
    /** Positions before it were tried. */
    let tried = from;
    anchors.lastIndex = from;
    for (let a = anchors.exec(text); a; a = anchors.exec(text)) {
      let start = a.index;
      while (start > tried && a.index - start < maxChars && inMatch.test(text[start - 1]!)) start--;
      for (let at = start; at <= a.index; at++) {
        sticky.lastIndex = at;
        const m = sticky.exec(text);
        if (m) return m;
      }
      tried = a.index + 1;
      anchors.lastIndex = tried;
    }
    return null;
  };
}

const IP =
  /(?:(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]))/g;
const IP_CHAR = /[0-9A-Fa-f.:]/;

const id = (locale: 'ES' | 'PL' | 'FI') => (text: string) =>
  isIdentityCard(text.toUpperCase(), locale);

export const PII_DETECTORS = {
  email: {
    entity: 'email',
    placeholder: '[EMAIL]',
    pattern:
      /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,6}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
    needs: /@/,
    maxChars: 64 + 1 + 64 * 7 + 25 + 1,
    notAfter: /[\w.%+-]/,
    inMatch: /[\w.%+@-]/,
    find: findEmail,
  },
  phone: {
    entity: 'phone',
    placeholder: '[PHONE]',
    pattern:
      /(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w])/g,
    valid: (m) => {
      const n = digits(m).length;
      return m.startsWith('+') ? n >= 8 && n <= 15 : n === 10;
    },
    needs: TWO_DIGITS,
    maxChars: 48,
    notAfter: /[\w+]/,
    inMatch: /[\d+(). -]/,
  },
  credit_card: {
    entity: 'credit_card',
    placeholder: '[CREDIT_CARD]',
    pattern: /\d(?:[ -]?\d){12,18}(?!\d)/g,
    valid: validCard,
    needs: DIGIT,
    maxChars: 40,
    notAfter: /[\d-]/,
    inMatch: /[\d -]/,
  },
  iban: {
    entity: 'iban',
    placeholder: '[IBAN]',
    pattern: /[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g,
    valid: validIban,
    needs: TWO_DIGITS,
    maxChars: 66,
    notAfter: /[A-Za-z0-9]/,
    inMatch: /[A-Z0-9 ]/,
  },
  ip: {
    entity: 'ip',
    placeholder: '[IP_ADDRESS]',
    pattern: IP,
    valid: (m) => m.includes('.') || validIpv6(m),
    needs: /\d\.\d|:[\dA-Fa-f]{0,4}:/,
    maxChars: 42,
    notAfter: /[\w.:]/,
    inMatch: IP_CHAR,
    // an IPv4 address has dots, an IPv6 one colons
    find: anchoredFind(IP, /[.:]/, IP_CHAR, 42),
  },
  us_ssn: {
    entity: 'us_ssn',
    placeholder: '[US_SSN]',
    pattern: /\d{3}-\d{2}-\d{4}(?![\d-])/g,
    valid: validSsn,
    needs: /\d-\d/,
    maxChars: 12,
    notAfter: /[\d-]/,
    inMatch: /[\d-]/,
  },
  es_dni: {
    entity: 'es_dni',
    placeholder: '[NATIONAL_ID]',
    pattern: /[XYZxyz]?\d{7,8}-?[A-Za-z](?![\w-])/g,
    valid: id('ES'),
    needs: /\d{7}/,
    maxChars: 12,
    notAfter: /[\w-]/,
    inMatch: /[\w-]/,
  },
  it_fiscal_code: {
    entity: 'it_fiscal_code',
    placeholder: '[NATIONAL_ID]',
    // upper case, as it is written: a lower-case first letter fails at once (fast on prose)
    pattern: /[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z](?!\w)/g,
    // the codice fiscale's check character (validator's isTaxID; its isIdentityCard IT is
    // the identity card number, which has none)
    valid: (text) => isTaxID(text.toUpperCase(), 'it-IT'),
    needs: TWO_DIGITS,
    maxChars: 17,
    notAfter: /\w/,
    inMatch: /\w/,
  },
  pl_pesel: {
    entity: 'pl_pesel',
    placeholder: '[NATIONAL_ID]',
    pattern: /\d{11}(?![\w-])/g,
    valid: id('PL'),
    needs: /\d{11}/,
    maxChars: 12,
    notAfter: /[\w-]/,
    inMatch: /[\w-]/,
  },
  fi_hetu: {
    entity: 'fi_hetu',
    placeholder: '[NATIONAL_ID]',
    pattern: /\d{6}[-+A]\d{3}[0-9A-Ya-y](?![\w-])/g,
    valid: id('FI'),
    needs: /\d{6}[-+A]/,
    maxChars: 12,
    notAfter: /[\w-]/,
    inMatch: /[\w+-]/,
  },
} as const satisfies Record<string, Detector>;

export type PiiEntity = keyof typeof PII_DETECTORS;

const TOKEN_CHAR = /[\w-]/;

export const SECRET_DETECTORS = {
  anthropic_key: {
    entity: 'anthropic_key',
    placeholder: '[ANTHROPIC_KEY]',
    pattern: /sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,160}(?![\w-])/g,
    needs: /sk-ant-/,
    maxChars: 180,
    notAfter: /[\w-]/,
    inMatch: TOKEN_CHAR,
    starts: ['sk-ant-'],
  },
  openai_key: {
    entity: 'openai_key',
    placeholder: '[OPENAI_KEY]',
    pattern: /sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}(?![\w-])/g,
    needs: /sk-/,
    maxChars: 212,
    notAfter: /[\w-]/,
    inMatch: TOKEN_CHAR,
    starts: ['sk-'],
  },
  google_api_key: {
    entity: 'google_api_key',
    placeholder: '[GOOGLE_API_KEY]',
    pattern: /AIza[0-9A-Za-z_-]{35}(?![\w-])/g,
    needs: /AIza/,
    maxChars: 40,
    inMatch: TOKEN_CHAR,
    starts: ['AIza'],
  },
  aws_access_key: {
    entity: 'aws_access_key',
    placeholder: '[AWS_ACCESS_KEY]',
    pattern: /(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])/g,
    needs: /A[KSBC][IC]A/,
    maxChars: 21,
    notAfter: /[A-Z0-9]/,
    inMatch: /[A-Z0-9]/,
    starts: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
  },
  aws_secret_key: {
    entity: 'aws_secret_key',
    placeholder: '[AWS_SECRET_KEY]',
    // A bare 40-character base64 string is any hash: only with its name beside it.
    pattern:
      /aws_?secret(?:_?access_?key)?["']?\s{0,4}[:=]\s{0,4}["']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi,
    needs: /aws/i,
    maxChars: 80,
    starts: ['aws'],
  },
  github_token: {
    entity: 'github_token',
    placeholder: '[GITHUB_TOKEN]',
    pattern: /(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?!\w)/g,
    needs: /gh[pousr]_|github_pat_/,
    maxChars: 267,
    inMatch: /\w/,
    starts: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  private_key: {
    entity: 'private_key',
    placeholder: '[PRIVATE_KEY]',
    pattern:
      /-----BEGIN (?:[A-Z0-9]{1,10} ){0,3}PRIVATE KEY-----[\s\S]{0,16384}?-----END (?:[A-Z0-9]{1,10} ){0,3}PRIVATE KEY-----/g,
    needs: /-----BEGIN /,
    maxChars: 16_384 + 2 * 70,
    starts: ['-----BEGIN '],
  },
  jwt: {
    entity: 'jwt',
    placeholder: '[JWT]',
    pattern: /eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096}(?![\w-])/g,
    needs: /eyJ/,
    maxChars: 3 * 4100,
    inMatch: /[\w.-]/,
    starts: ['eyJ'],
  },
} as const satisfies Record<string, Detector>;

export type SecretKind = keyof typeof SECRET_DETECTORS;
