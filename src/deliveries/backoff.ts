/**
 * The delay before retry number `attempt` (1 after the first failure): exponential from `base`, capped at
 * `cap`, with full jitter (a random delay up to that), so endpoints that fail together do not retry together.
 */
export function retryDelaySeconds(attempt: number, base: number, cap: number, random = Math.random()): number {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.ceil(ceiling * random));
}
