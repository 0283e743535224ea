/** Exact decimal text → scaled integers, for DECIMAL(p,s) columns: no digit is rounded, ever. */

const DECIMAL_SYNTAX = /^[ \t\n\r]*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?[ \t\n\r]*$/;
const POW10: bigint[] = [1n];
for (let i = 1; i <= 40; i++) POW10.push((POW10[i - 1] as bigint) * 10n);

/** Parsed decimal text: `digits × 10^exponent`, with its sign; null when the text is not a decimal number. */
export interface DecimalParts {
  negative: boolean;
  /** Significant digits without leading zeros ("" for zero). */
  digits: string;
  exponent: number;
}

export function parseDecimal(text: string): DecimalParts | null {
  const m = DECIMAL_SYNTAX.exec(text);
  if (!m) return null;
  const int = m[2] as string;
  const frac = m[3] ?? "";
  if (int === "" && frac === "") return null;
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(exp)) return null;
  let digits = (int + frac).replace(/^0+/, "");
  let exponent = exp - frac.length;
  // Trailing zeros carry no value: 1.500 is 15 × 10^-1.
  const trimmed = digits.replace(/0+$/, "");
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  return { negative: m[1] === "-" && digits !== "", digits, exponent: digits === "" ? 0 : exponent };
}

/**
 * The value × 10^scale as an integer when it has at most `scale` fractional digits and at most `precision`
 * digits in all; otherwise why not, or null when `text` is not decimal text at all (an exponent is allowed).
 */
export function scaledDecimal(text: string, precision: number, scale: number): bigint | string | null {
  const d = parseDecimal(text);
  if (d === null) return null;
  if (d.digits === "") return 0n;
  const shift = d.exponent + scale;
  if (shift < 0) return `has more than ${scale} decimal places`;
  if (d.digits.length + shift > precision) return `has more than ${precision} digits`;
  const v = BigInt(d.digits) * (POW10[shift] as bigint);
  return d.negative ? -v : v;
}

/** Whether a parsed decimal is an integer, and its value (exact). */
export function decimalInteger(d: DecimalParts): bigint | null {
  if (d.exponent < 0) return null;
  if (d.digits.length + d.exponent > 40) return null; // beyond every integer type
  const v = d.digits === "" ? 0n : BigInt(d.digits) * 10n ** BigInt(d.exponent);
  return d.negative ? -v : v;
}
