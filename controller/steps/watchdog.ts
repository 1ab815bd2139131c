/**
 * Step 1: the watchdog. It fires at the session deadline minus a margin, whatever else is
 * happening (an agent that ignores its timeout, a hung git or GitHub call), and the lifecycle then
 * forces the final steps: report, revoke, terminate (LESSONS: VMs that never deleted themselves).
 * The cloud's own lifetime cap stays the last backstop if even that fails.
 */
export interface Watchdog {
  /** Aborted when the watchdog fires: in-flight work (the agent container) stops. */
  readonly signal: AbortSignal;
  /** Resolves when the watchdog fires; never rejects. */
  readonly fired: Promise<void>;
  /** Epoch ms at which it fires. */
  readonly firesAt: number;
  stop(): void;
}

export interface WatchdogOptions {
  /** Epoch ms of the session deadline (spec.deadline). */
  deadlineMs: number;
  /** Time kept back for report, revoke and terminate. */
  marginMs: number;
  now?: () => number;
}

/** setTimeout overflows above 2^31-1 ms (~24.8 days); sessions may live longer, so wait in slices. */
const maxTimerMs = 2_147_483_647;

export function startWatchdog(options: WatchdogOptions): Watchdog {
  const now = options.now ?? Date.now;
  const firesAt = options.deadlineMs - options.marginMs;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let resolveFired: () => void = () => undefined;
  const fired = new Promise<void>((resolve) => (resolveFired = resolve));

  const arm = () => {
    const remaining = firesAt - now();
    if (remaining <= 0) {
      controller.abort(new Error(`session deadline reached (watchdog fired at ${new Date(firesAt).toISOString()})`));
      resolveFired();
      return;
    }
    timer = setTimeout(arm, Math.min(remaining, maxTimerMs));
  };
  arm();

  return {
    signal: controller.signal,
    fired,
    firesAt,
    stop: () => clearTimeout(timer),
  };
}

/** Default margin: a tenth of the lifetime, at least 20 s and at most 2 minutes. */
export function watchdogMarginMs(lifetimeSeconds: number): number {
  return Math.min(120_000, Math.max(20_000, lifetimeSeconds * 100));
}
