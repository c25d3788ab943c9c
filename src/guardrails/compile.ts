/**
 * Policies from the config, compiled once per isolate (cached by the config object): each
 * check becomes its detectors (patterns copied per check, so no two checks share a
 * `lastIndex`) or a verdict check (prompt size, JSON schema, webhook). Pure.
 */
import type { GatewayConfig, GuardrailCheck, GuardrailsConfig } from '../config/index.ts';
import { type Detector, escapeRegex, PII_DETECTORS, SECRET_DETECTORS } from './detectors.ts';
import type { Action, Stage } from './scan.ts';

export interface CompiledCheck {
  policy: string;
  /** The check's name (its `type` unless named). */
  name: string;
  config: GuardrailCheck;
  action: Action;
  request: boolean;
  response: boolean;
  /** Text detectors (pii, secrets, keywords, regex); empty for verdict checks. */
  detectors: Detector[];
}

export type CompiledPolicies = ReadonlyMap<string, readonly CompiledCheck[]>;

const compiled = new WeakMap<GuardrailsConfig, CompiledPolicies>();

/** The detector stages of `checks`, each check with a tally of its own: a scan outside a
 * request (benchmarks, tests). */
export function stagesOf(checks: readonly CompiledCheck[], on: 'request' | 'response'): Stage[] {
  return checks.flatMap((check) => {
    const { policy, name, action } = check;
    const tally = { policy, check: name, action, on, matches: 0 };
    return check.detectors.map((detector) => ({ detector, action, tally }));
  });
}

/** Every policy of the config, compiled on first use in this isolate. */
export function compiledPolicies(config: GuardrailsConfig): CompiledPolicies {
  let policies = compiled.get(config);
  if (!policies) {
    policies = new Map(
      Object.entries(config.policies).map(([name, policy]) => [
        name,
        policy.checks.map((check) => compileCheck(name, check)),
      ]),
    );
    compiled.set(config, policies);
  }
  return policies;
}

/** The policy names that apply: the key's list, else its tenant's, else the defaults. */
export function policyNames(
  config: GatewayConfig,
  key: { tenant: string; guardrails?: string[] | null } | undefined,
): readonly string[] {
  if (key?.guardrails) return key.guardrails;
  const tenant =
    key && Object.hasOwn(config.tenants, key.tenant) ? config.tenants[key.tenant] : undefined;
  return tenant?.guardrails ?? config.guardrails.defaultPolicies;
}

function copy(d: Detector): Detector {
  return { ...d, pattern: new RegExp(d.pattern.source, d.pattern.flags) };
}

function compileCheck(policy: string, check: GuardrailCheck): CompiledCheck {
  const on = check.on;
  return {
    policy,
    name: check.name ?? check.type,
    config: check,
    action: check.action,
    request: on === 'request' || on === 'both',
    response: on === 'response' || on === 'both',
    detectors: detectorsOf(check),
  };
}

function detectorsOf(check: GuardrailCheck): Detector[] {
  switch (check.type) {
    case 'pii':
      return (check.entities ?? (Object.keys(PII_DETECTORS) as (keyof typeof PII_DETECTORS)[])).map(
        (e) => copy(PII_DETECTORS[e]),
      );
    case 'secrets':
      return (
        check.kinds ?? (Object.keys(SECRET_DETECTORS) as (keyof typeof SECRET_DETECTORS)[])
      ).map((k) => copy(SECRET_DETECTORS[k]));
    case 'keywords': {
      const words = [...check.words].sort((a, b) => b.length - a.length);
      const flags = check.caseSensitive ? 'u' : 'iu';
      const any = `(?:${words.map(escapeRegex).join('|')})`;
      return [
        {
          entity: 'keyword',
          placeholder: check.placeholder,
          pattern: new RegExp(`(?<![\\p{L}\\p{N}_])${any}(?![\\p{L}\\p{N}_])`, `g${flags}`),
          needs: new RegExp(any, flags),
          maxChars: words[0]!.length + 1,
          starts: check.caseSensitive ? words : words.map((w) => w.toLowerCase()),
        },
      ];
    }
    case 'regex':
      return check.patterns.map((source) => ({
        entity: 'regex',
        placeholder: check.placeholder,
        pattern: new RegExp(source, `gu${check.flags}`),
        maxChars: check.maxMatchChars + 1,
      }));
    default:
      return [];
  }
}
