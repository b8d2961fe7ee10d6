import { USER_SCOPES } from "../auth/scopes";

/** The first-party public OAuth client /docs signs in with; `npm run web:client` registers it. */
export const DOCS_CLIENT_ID = "hey-docs";

/** Where Swagger UI's sign-in popup lands: its own page, copied from swagger-ui-dist by scripts/build-assets.mjs. */
export const DOCS_REDIRECT_PATH = "/docs/vendor/oauth2-redirect.html";

/** What the docs may ask a user for: every scope but `admin`, which only staff-registered apps may request. */
export const DOCS_SCOPES = USER_SCOPES;
