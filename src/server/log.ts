/**
 * Structured request logging: one JSON line per request with its id. Only
 * request metadata and error codes are logged, never bodies, so nothing a
 * client sends or the enclave signs ends up in logs.
 */
export type LogLine = Record<string, string | number | boolean | null>;
export type Logger = (line: LogLine) => void;

export const jsonLogger: Logger = (line) => process.stdout.write(JSON.stringify(line) + '\n');
/** Failures go to stderr, so they show whatever the request log does (the enclave's console, too). */
export const jsonErrorLogger: Logger = (line) => process.stderr.write(JSON.stringify(line) + '\n');
export const silentLogger: Logger = () => {};
