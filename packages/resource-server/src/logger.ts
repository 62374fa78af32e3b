/** Where a feed reports what happens: console, pino, winston and the like all fit. Every call gets one string. */
export interface Logger {
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

/** The three levels, each a no-op when the logger lacks it. Without a logger: warnings and errors to the console. */
export function levels(logger: Logger | undefined): Required<Logger> {
  const target: Logger = logger ?? { warn: (message) => console.warn(message), error: (message) => console.error(message) };
  const bind = (level: keyof Logger) => {
    const method = target[level];
    return typeof method === 'function' ? (message: string) => method.call(target, `@tessera/resource-server: ${message}`) : () => {};
  };
  return { info: bind('info'), warn: bind('warn'), error: bind('error') };
}
