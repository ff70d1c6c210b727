/** Bad arguments or configuration: the CLI exits 2 and says what to change, before anything starts. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
