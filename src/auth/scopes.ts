/** Every scope Hey knows, with the words the consent page shows for it. */
export const SCOPES = {
  "read:messages": "Read your conversations and messages",
  "send:messages": "Send messages as you",
  "manage:conversations": "Start, rename and delete conversations, and add or remove people",
  profile: "See and edit your profile, and look up the people you talk to",
  admin:
    "Act as a Hey administrator in your name: register and delete apps, activate, deactivate or promote any account, and see every user's email and phone number",
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

/**
 * The scopes any app may ask a user for. `admin` is not among them: only apps that staff registered
 * with it may request it, and only staff users are granted it.
 */
export const USER_SCOPES = ALL_SCOPES.filter((s) => s !== "admin");

/** Splits a space-separated scope string (RFC 6749 §3.3); null when any scope is unknown. */
export function parseScopes(value: string): Scope[] | null {
  const scopes = [...new Set(value.split(" ").filter(Boolean))];
  return scopes.every((s): s is Scope => s in SCOPES) ? scopes : null;
}

/** True when every scope in `wanted` is in `allowed`. */
export function isSubset(wanted: readonly string[], allowed: readonly string[]): boolean {
  return wanted.every((s) => allowed.includes(s));
}

/** True when a request may act as an administrator: a staff user's token carrying `admin`. */
export const isAdmin = (auth: { user: { isStaff: boolean }; scopes: readonly string[] }) => auth.user.isStaff && auth.scopes.includes("admin");
