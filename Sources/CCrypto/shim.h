#ifndef WEICHE_CCRYPTO_SHIM_H
#define WEICHE_CCRYPTO_SHIM_H
// OpenSSL's libcrypto: digests and MACs only. Weiche never implements a cryptographic primitive.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#endif
