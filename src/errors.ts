/**
 * An expected failure raised by feature functions, which know nothing of HTTP frameworks;
 * the app's error handler turns it into a problem+json response with this status.
 */
export class DomainError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 410 | 411 | 413 | 422 | 429 | 503,
    message: string,
    readonly errors?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = "DomainError";
  }
}
