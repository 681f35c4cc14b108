/*
 * libFuzzer harness for the PROXY protocol parser. besides crashes it
 * checks the parser's contract on every input:
 *   - a result > 0 is at most the input length and PROXY_MAX_LEN, and the
 *     same header parses alike with any number of bytes after it;
 *   - every strict prefix of a parsed header asks for more (0);
 *   - once a prefix is refused (-1), every longer input is refused too;
 *   - decoded addresses are ipv4 or ipv6 with the matching length.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check_addr(const struct sockaddr_storage *ss, socklen_t sl)
{
	if (ss->ss_family == AF_INET && sl == sizeof(struct sockaddr_in))
		return;
	if (ss->ss_family == AF_INET6 && sl == sizeof(struct sockaddr_in6))
		return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_info pi, pj;
	size_t k;
	int r, rk, refused = 0;

	r = proxy_parse(data, size, &pi);
	if (r < -1 || (r > 0 && ((size_t)r > size || r > PROXY_MAX_LEN)))
		abort();
	if (r > 0 && !pi.local) {
		fuzz_check_addr(&pi.src, pi.srclen);
		fuzz_check_addr(&pi.dst, pi.dstlen);
	}
	if (r > 0 && !proxy_looks_like(data, size))
		abort();

	/* prefixes: more, more, ..., then the same answer or refused */
	for (k = 0; k < size; k++) {
		rk = proxy_parse(data, k, &pj);
		if (refused && rk != -1)
			abort();
		if (rk == -1)
			refused = 1;
		if (r > 0 && k < (size_t)r && rk != 0)
			abort();
		if (r > 0 && k >= (size_t)r && rk != r)
			abort();
		if (rk > 0 && r != rk)
			abort();
	}
	if (refused && r != -1)
		abort();
	/* the last prefix still held the whole header: same addresses */
	if (r > 0 && size > (size_t)r && memcmp(&pi, &pj, sizeof(pi)) != 0)
		abort();
	return 0;
}
