// The Go value parsing the controller applies to annotation values, reproduced exactly: a value
// is what strconv and the controller's helpers make of it, not what it looks like.

/** strconv.Atoi: optional sign, decimal digits, nothing else (no spaces), within int64. */
export function goAtoi(value: string): number | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = BigInt(value);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  // Depths beyond 2^53 do not matter here; keep the sign and the order of magnitude.
  return Number(n);
}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** strconv.ParseBool. */
export function goParseBool(value: string): boolean | undefined {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  return undefined;
}

/** The controller's normalizeString: every line trimmed (Go strings.TrimSpace), joined by "\n". */
export function normalizeString(value: string): string {
  return value
    .split("\n")
    .map((line) => line.replace(/^[\s\u0085]+|[\s\u0085]+$/g, ""))
    .join("\n");
}

/** parser.ValidateRegex(regex, removeSpace): spaces removed, the regex, then no CR/LF. */
export function validateRegex(regex: RegExp, value: string, removeSpace: boolean): boolean {
  const s = removeSpace ? value.replaceAll(" ", "") : value;
  return regex.test(s) && !/\r|\n/.test(s);
}
