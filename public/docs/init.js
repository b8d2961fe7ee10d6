// Kept out of the HTML so the page's CSP can forbid inline scripts.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  oauth2RedirectUrl: `${location.origin}/docs/vendor/oauth2-redirect.html`,
});
