/**
 * When to try again: exponential backoff with jitter, and a retry loop for
 * single requests. What is worth retrying is decided in `client_errors.ts`.
 *
 * @module
 */
import { isRetriableError } from "./errors.ts";

/** The first retry waits about this long; each next one doubles it. */
export const RETRY_BASE_MS = 100;
/** No wait between retries is longer than this. */
export const RETRY_CAP_MS = 5000;

/**
 * The wait before retry number `retry` (0 for the first): the exponential
 * step, capped, of which half is fixed and half random. The random half keeps
 * clients rejected together from coming back together; the fixed half keeps
 * the wait from collapsing to nothing.
 *
 * @example
 * ```ts
 * backoffDelay(0, () => 0); // 50
 * backoffDelay(3, () => 1); // 800
 * ```
 */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const step = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** retry);
  return Math.round(step / 2 + random() * (step / 2));
}

/** A retry about to happen, for a warning line. */
export interface RetryNotice {
  /** 1 for the first retry. */
  retry: number;
  retries: number;
  delayMs: number;
  /** Why, with how many orders each: a reply's `mensaje` or an error's message. */
  reasons: Map<string, number>;
}

/** What a retry loop needs besides the action. */
export interface RetryPolicy {
  /** Most retries after the first attempt. */
  retries: number;
  /** Told before each wait. */
  onRetry: (notice: RetryNotice) => void;
  /** @default Math.random */
  random?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `action`, retrying retriable failures with backoff at most
 * `policy.retries` times.
 *
 * @example
 * ```ts
 * const reply = await withRetries(() => ask(), { retries: 3, onRetry: (reason) => warn(reason) });
 * ```
 * @throws the last failure, or the first that is not retriable
 */
export async function withRetries<T>(action: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let retry = 0;; retry++) {
    try {
      return await action();
    } catch (error) {
      if (retry >= policy.retries || !isRetriableError(error)) throw error;
      const delayMs = backoffDelay(retry, policy.random);
      const reasons = new Map([[(error as Error).message, 1]]);
      policy.onRetry({ retry: retry + 1, retries: policy.retries, delayMs, reasons });
      await (policy.sleep ?? sleep)(delayMs);
    }
  }
}
