/*
 * api_ui.c: the dashboard's static files (api_ui.h). The bytes come from
 * ui_assets.c, generated at build time from agent/ui/; nothing is read
 * from disk at run time and nothing is fetched from elsewhere.
 */
#include <stdint.h>
#include <string.h>

#include <microhttpd.h>

#include "api_ui.h"

#include "../common/banned.h"

static char not_found[] = "no such dashboard file\n";

const struct ro_api_ui_asset *
ro_api_ui_find(const char *name)
{
	const struct ro_api_ui_asset	*a;

	if (name == NULL || name[0] == '\0')
		name = "index.html";
	for (a = ro_api_ui_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

void
ro_api_ui_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
	    RO_API_UI_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
	    "same-origin");
}

/* Does the If-None-Match list (or "*") name etag? */
static int
etag_matches(const char *inm, const char *etag)
{
	size_t		 n = strlen(etag);
	const char	*p;

	if (inm == NULL)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	for (p = inm; (p = strstr(p, etag)) != NULL; p += n)
		if ((p == inm || p[-1] == ' ' || p[-1] == ',' ||
		    p[-1] == '/') && (p[n] == '\0' || p[n] == ',' ||
		    p[n] == ' '))
			return 1;	/* W/"x" matches weakly: fine for GET */
	return 0;
}

struct MHD_Response *
ro_api_ui_response(struct MHD_Connection *conn, const char *name,
    unsigned *status)
{
	const struct ro_api_ui_asset	*a;
	struct MHD_Response		*resp;
	const char			*inm;

	if ((a = ro_api_ui_find(name)) == NULL) {
		*status = MHD_HTTP_NOT_FOUND;
		resp = MHD_create_response_from_buffer(strlen(not_found),
		    not_found, MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return NULL;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "text/plain; charset=utf-8");
		ro_api_ui_headers(resp);
		return resp;
	}
	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (etag_matches(inm, a->etag)) {
		*status = MHD_HTTP_NOT_MODIFIED;
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		*status = MHD_HTTP_OK;
		/* PERSISTENT: MHD does not write to it; the cast only drops
		 * the const its old prototype lacks */
		resp = MHD_create_response_from_buffer(a->len,
		    (void *)(uintptr_t)a->data, MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL)
		return NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache");
	ro_api_ui_headers(resp);
	return resp;
}
