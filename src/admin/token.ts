/**
 * Admin token check in constant time: both sides are hashed to 32 bytes first, so neither
 * the length nor the content of a configured token leaks through timing.
 */
export async function matchAdminToken(
  presented: string,
  tokens: Record<string, string>,
): Promise<string | undefined> {
  const candidate = await sha256(presented);
  let actor: string | undefined;
  for (const [name, token] of Object.entries(tokens)) {
    // Check every token (no early exit), so timing does not tell which one matched.
    if (equalBytes(candidate, await sha256(token)) && actor === undefined) actor = name;
  }
  return actor;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i] ?? 0);
  return diff === 0;
}
