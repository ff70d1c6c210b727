// For the reports' escaping tests: every string of a value with `mark` appended, and the keys of the
// objects found at `freeFormPaths` (dotted paths of maps whose keys come from outside: headers,
// annotations) too, so a test can look for the mark, unescaped, in what was rendered.
export function taint<T>(value: T, mark: string, freeFormPaths: ReadonlySet<string>): T {
  const walk = (v: unknown, path: string): unknown =>
    typeof v === "string"
      ? v + mark
      : Array.isArray(v)
        ? v.map((x) => walk(x, path))
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [freeFormPaths.has(path) ? k + mark : k, walk(x, path ? `${path}.${k}` : k)]))
          : v;
  return walk(structuredClone(value), "") as T;
}
