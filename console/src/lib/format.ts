/** Numbers, money, durations and times as the console shows them. Pure. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export const count = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : integer.format(n);

export const number = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : decimal.format(n);

/** USD with enough digits for a fraction of a cent (a cheap request costs $0.00002). */
export function usd(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n === 0) return '$0';
  const digits = Math.abs(n) >= 1 ? 2 : Math.min(8, 2 - Math.floor(Math.log10(Math.abs(n))) + 1);
  return `$${n.toFixed(digits)}`;
}

export const ms = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : `${integer.format(Math.round(n))} ms`;

export const percent = (fraction: number | null | undefined): string =>
  fraction === null || fraction === undefined ? '–' : `${decimal.format(fraction * 100)}%`;

export const time = (iso: string | null | undefined): string =>
  iso
    ? new Date(iso).toLocaleString('en-GB', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hour12: false,
      })
    : '–';
