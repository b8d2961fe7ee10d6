/** Every scope Hey knows, with the words the consent page shows for it. */
export const SCOPES = {
  "read:messages": "Read your conversations and messages",
  "send:messages": "Send messages as you",
  "manage:conversations": "Start, rename and delete conversations, and add or remove people",
  profile: "See and edit your profile",
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

/** Splits a space-separated scope string (RFC 6749 §3.3); null when any scope is unknown. */
export function parseScopes(value: string): Scope[] | null {
  const scopes = [...new Set(value.split(" ").filter(Boolean))];
  return scopes.every((s): s is Scope => s in SCOPES) ? scopes : null;
}

/** True when every scope in `wanted` is in `allowed`. */
export function isSubset(wanted: readonly string[], allowed: readonly string[]): boolean {
  return wanted.every((s) => allowed.includes(s));
}
