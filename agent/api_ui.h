/*
 * api_ui.h: the dashboard's static files (GET /ui, /ui/app.js,
 * /ui/app.css), embedded in the binary at build time by
 * cmake/embed_ui.cmake from agent/ui/. See docs/dashboard.md.
 *
 * Every answer carries a strict Content-Security-Policy (same origin
 * only, no inline script or style), X-Content-Type-Options nosniff,
 * Referrer-Policy no-referrer and X-Frame-Options DENY, a strong ETag
 * and "Cache-Control: no-cache" (revalidated, so a new build is seen at
 * once); a matching If-None-Match is answered 304.
 *
 * Thread rules: the assets are constant; every function may be called
 * from any thread.
 */
#ifndef RO_API_UI_H
#define RO_API_UI_H

#include <stddef.h>

#define RO_API_UI_CSP	"default-src 'none'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct ro_api_ui_asset {
	const char		*name;	/* "index.html" */
	const char		*type;	/* Content-Type */
	const char		*etag;	/* quoted */
	const unsigned char	*data;	/* static, NUL-terminated */
	size_t			 len;	/* bytes, without the NUL */
};

/* Generated (ui_assets.c); ends with a NULL name. */
extern const struct ro_api_ui_asset ro_api_ui_assets[];

/* The asset of a /ui path segment: "" is index.html. NULL: none. */
const struct ro_api_ui_asset *ro_api_ui_find(const char *name);

struct MHD_Response;
struct MHD_Connection;

/*
 * The answer to GET /ui[/name] on conn: 200 with the asset, 304 when
 * If-None-Match names its ETag, 404 (text) for an unknown name; *status
 * is set. NULL on ENOMEM (the caller closes). The caller queues and
 * destroys the response.
 */
struct MHD_Response *ro_api_ui_response(struct MHD_Connection *conn,
	    const char *name, unsigned *status);
/* The security headers above, for any answer of the dashboard. */
void	ro_api_ui_headers(struct MHD_Response *resp);

#endif
