// Typed errors carry their exit code: operational problems fail the gate closed (2).

export class DumpguardError extends Error {
  readonly exitCode: number = 2;
}

export class UsageError extends DumpguardError {
  override name = 'UsageError';
}

export class WorkerError extends DumpguardError {
  override name = 'WorkerError';
}

/** A message that is safe to print: bounded, one line. Errors never carry key bytes by design. */
export function describeError(error: unknown): string {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
  const message = error instanceof Error ? error.message : String(error);
  const raw = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  const line = raw.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}
