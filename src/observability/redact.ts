/** Replaces every occurrence of a secret with `[redacted]`; secrets shorter than 6 chars are
 * ignored (too likely to collide with ordinary text). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6 && out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}
