/** Replaces every occurrence of a secret with `[redacted]`; secrets shorter than 6 chars are
 * ignored (too likely to collide with ordinary text). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6 && out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Text from an upstream made safe to show a client: secrets redacted, every URL replaced by
 * `[url]` and every configured provider host (`hosts`, bare host names in prose too) by
 * `[host]`: an upstream's message may name internal endpoints the client must not learn.
 */
export function scrubUpstreamText(
  text: string,
  secrets: readonly string[],
  hosts: readonly string[] = [],
): string {
  let out = redact(text, secrets).replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi, '[url]');
  for (const host of hosts) {
    if (host.length >= 4 && out.includes(host)) out = out.split(host).join('[host]');
  }
  return out;
}

/** Client-supplied text echoed in an error or written to a log, cut to `max` characters. */
export function clip(text: string, max = 256): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/**
 * Credentials by their shape, for text the gateway keeps (captured prompts and answers):
 * PEM private key blocks (an unterminated one to the end of the text), JWTs, bearer tokens,
 * AWS access key ids and secret keys written as `aws_secret_access_key = ...`, and the API
 * keys of the major providers (OpenAI `sk-` / `sk-proj-`, Anthropic `sk-ant-`, this
 * gateway's `sk-gw-`, Google `AIza`, GitHub `ghp_`/`github_pat_`, Slack `xox*-`, Hugging
 * Face `hf_`, Groq `gsk_`, Stripe `sk_live_`/`rk_live_`). Hand-written: the scanners that
 * know these shapes (gitleaks, detect-secrets, secretlint) are CLIs for files and
 * repositories, none runs on a string in workerd; these are their published patterns.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /(?<=\bbearer\s+)[A-Za-z0-9._~+/-]{8,}=*/gi,
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
  /(?<=\baws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+]{40}\b/gi,
  /\bsk-(?:ant-|proj-|gw-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bhf_[A-Za-z0-9]{30,}/g,
  /\bgsk_[A-Za-z0-9]{40,}/g,
  /\b[rs]k_live_[A-Za-z0-9]{20,}/g,
];

/** `redact` of the configured secrets, then every credential recognised by its shape. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = redact(text, secrets);
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '[redacted]');
  return out;
}
