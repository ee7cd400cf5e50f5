// Package httpsafe keeps syncd's HTTP exchanges with servers it does not
// control safe, in one place for the CRK client and every connector:
//
//   - credentials never follow a redirect to clear text or to another host
//     (CheckRedirect, WithRedirectPolicy);
//   - a body read into memory or decoded is bounded after decompression, and
//     passing the bound is an error, never a silent truncation (Limit,
//     ReadAll, JSON);
//   - text quoted from a body into an error carries no secret (Redact).
package httpsafe
