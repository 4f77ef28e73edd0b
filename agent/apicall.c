/* apicall.c: a CLI verb's one request to a running agent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "apicall.h"

#include "../common/banned.h"

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

long
ro_apicall(const char *method, const char *base, const char *path,
    const char *token, struct ro_buf *out, struct ro_err *err)
{
	struct curl_slist	*hd = NULL;
	CURL			*h;
	CURLcode		 cc;
	char			*url = NULL, *auth = NULL;
	long			 status = RO_ENOMEM;

	ro_buf_init(out, RO_APICALL_BODY_MAX);
	if ((h = curl_easy_init()) == NULL ||
	    asprintf(&url, "%s%s", base, path) < 0) {
		url = NULL;
		ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if (token != NULL) {
		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
			auth = NULL;
			ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		hd = curl_slist_append(hd, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)RO_APICALL_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	if ((cc = curl_easy_perform(h)) != CURLE_OK) {
		status = ro_err_set(err, RO_EIO, "%s: %s", url,
		    curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
done:
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
	curl_slist_free_all(hd);
	if (h != NULL)
		curl_easy_cleanup(h);
	return status;
}
