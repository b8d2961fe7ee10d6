import { config } from "../../config";

/** The issuer identifier (RFC 8414 §2): the ISSUER var, or the origin the request reached. */
export function issuerOf(env: object, requestUrl: string): string {
  return (config(env).ISSUER ?? new URL(requestUrl).origin).replace(/\/$/, "");
}
