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
