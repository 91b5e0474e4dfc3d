#ifndef WEICHE_CCRYPTO_SHIM_H
#define WEICHE_CCRYPTO_SHIM_H
// OpenSSL's libcrypto: digests and MACs only. Weiche never implements a cryptographic primitive.
// And the kernel's random generator (getrandom), which Swift's Glibc module does not declare.
#include <sys/random.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#endif
