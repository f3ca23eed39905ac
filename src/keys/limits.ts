// Every length read from untrusted bytes passes a named bound (file-type's getSafeBound habit).

export class HardLimitError extends Error {
  constructor(reason: string) {
    super(`limit exceeded: ${reason}`);
    this.name = 'HardLimitError';
  }
}

export function boundedLength(value: number, maximum: number, reason: string): number {
  if (!Number.isInteger(value) || value < 0 || value > maximum) throw new HardLimitError(reason);
  return value;
}
