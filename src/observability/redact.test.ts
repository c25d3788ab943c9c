import { describe, expect, it } from 'vitest';
import { clip, redact, redactSecrets } from './redact.ts';

// Written out by hand: credentials of each shape (made up, valid in form only).
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  '-----END RSA PRIVATE KEY-----',
].join('\n');
const SECRETS: Record<string, string> = {
  'OpenAI key': 'sk-abcdefghijklmnopqrstuvwxyzABCDEF0123456789',
  'OpenAI project key': 'sk-proj-Xy12_abCDefGHijKLmnOPqrSTuvWXyz0123456789',
  'Anthropic key': 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf',
  'gateway key': 'sk-gw-4fQp9ZtR2mWx7YbKc1LsNd8HvJe3GaUo',
  'Google API key': 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY',
  'GitHub token': 'ghp_0123456789abcdefghijABCDEFGHIJ012345',
  'Slack token': 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp',
  'Hugging Face token': 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567',
  'AWS access key id': 'AKIAIOSFODNN7EXAMPLE',
  JWT: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  'private key block': PEM,
};

describe('redactSecrets', () => {
  for (const [name, secret] of Object.entries(SECRETS)) {
    it(`removes a ${name} from the text around it`, () => {
      const out = redactSecrets(`my credential is ${secret} please keep it`, []);
      expect(out).toBe('my credential is [redacted] please keep it');
    });
  }

  it('removes a bearer token and an AWS secret key, keeping the words that name them', () => {
    expect(redactSecrets('curl -H "Authorization: Bearer abc.DEF-123_456~xyz=="', [])).toBe(
      'curl -H "Authorization: Bearer [redacted]"',
    );
    expect(
      redactSecrets('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', []),
    ).toBe('aws_secret_access_key = [redacted]');
  });

  it('removes a private key cut off before its END line, to the end of the text', () => {
    const cut = PEM.split('\n').slice(0, 2).join('\n');
    expect(redactSecrets(`key:\n${cut}`, [])).toBe('key:\n[redacted]');
  });

  it('removes configured secrets of any shape, and every occurrence', () => {
    expect(redactSecrets('a plainpassword9 b plainpassword9', ['plainpassword9'])).toBe(
      'a [redacted] b [redacted]',
    );
  });

  it('leaves ordinary text alone', () => {
    const text =
      'Ask the desk (sk-ill level 3) about the bearer of bad news; eyJ is not a token; AKIA.';
    expect(redactSecrets(text, [])).toBe(text);
  });
});

describe('redact and clip', () => {
  it('redact ignores secrets under 6 characters; clip says how long the text was', () => {
    expect(redact('abc abcdef', ['abc', 'abcdef'])).toBe('abc [redacted]');
    expect(clip('x'.repeat(300), 10)).toBe(`${'x'.repeat(10)}…(300 chars)`);
  });
});
