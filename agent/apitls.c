/* apitls.c: read and check the API's TLS certificate and key (apitls.h). */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "apitls.h"

#include "../common/banned.h"

bool
ro_apitls_supported(void)
{
	return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

static const char *
ssl_reason(void)
{
	unsigned long	e = ERR_peek_last_error();
	const char	*s = e != 0 ? ERR_reason_error_string(e) : NULL;

	return s != NULL ? s : "not PEM";
}

void
ro_apitls_free_key(char *key)
{
	if (key == NULL)
		return;
	OPENSSL_cleanse(key, strlen(key));
	free(key);
}

int
ro_apitls_load(const char *cert_file, const char *key_file, char **cert,
    char **key, struct ro_err *err)
{
	struct ro_buf	 c = RO_BUF_INIT, k = RO_BUF_INIT;
	BIO		*bio = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pk = NULL;
	int		 error;

	ERR_clear_error();
	if ((error = ro_file_read(cert_file, RO_APITLS_FILE_MAX, &c, err)) < 0 ||
	    (error = ro_file_read(key_file, RO_APITLS_FILE_MAX, &k, err)) < 0)
		goto done;
	if ((bio = BIO_new_mem_buf(c.ptr != NULL ? c.ptr : "",
	    (int)c.len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		error = ro_err_set(err, RO_EINVALID, "tls-cert %s: not a PEM "
		    "certificate (%s)", cert_file, ssl_reason());
		goto done;
	}
	BIO_free(bio);
	/* no passphrase callback: an encrypted key is refused, not asked */
	if ((bio = BIO_new_mem_buf(k.ptr != NULL ? k.ptr : "",
	    (int)k.len)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(bio, NULL, NULL,
	    (void *)"")) == NULL) {
		error = ro_err_set(err, RO_EINVALID, "tls-key %s: not an "
		    "unencrypted PEM private key (%s)", key_file, ssl_reason());
		goto done;
	}
	if (X509_check_private_key(x, pk) != 1) {
		error = ro_err_set(err, RO_EINVALID, "tls-key %s does not "
		    "belong to the certificate in %s", key_file, cert_file);
		goto done;
	}
	if ((*cert = strdup(ro_buf_cstr(&c))) == NULL ||
	    (*key = strdup(ro_buf_cstr(&k))) == NULL) {
		free(*cert);
		*cert = NULL;
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	error = RO_OK;
done:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(pk);
	if (k.ptr != NULL)
		OPENSSL_cleanse(k.ptr, k.len);
	ro_buf_release(&c);
	ro_buf_release(&k);
	return error;
}
