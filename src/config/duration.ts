/** Durations in config and flags are written like `90s`, `45m`, `2h`, `1d` or `1h30m`. */
const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const durationPattern = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export const durationSyntax = '^(?:\\d+d)?(?:\\d+h)?(?:\\d+m)?(?:\\d+s)?$';

/** Seconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, d, h, m, s] = match;
  const parts: Array<[string | undefined, string]> = [
    [d, 'd'],
    [h, 'h'],
    [m, 'm'],
    [s, 's'],
  ];
  return parts.reduce((total, [value, unit]) => total + (value ? Number(value) * (unitSeconds[unit] ?? 0) : 0), 0);
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}

/** `4g`, `512m`, `1024k` or a plain byte count → bytes. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (!match) return undefined;
  const factor = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Number(match[1]) * factor;
}
