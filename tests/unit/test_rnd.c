/* rnd_bytes and rnd_hex: the kernel's bytes, the bound on the output */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "rnd.h"

int
main(void)
{
	char a[33], b[33], small[32];
	unsigned char *big;
	size_t i, zero = 0;
	int hex = 1;

	CHECK(rnd_hex(a, sizeof(a), 16) == 0, "16 bytes fit 33 characters");
	CHECK(strlen(a) == 32, "as 32 hex digits");
	for (i = 0; a[i] != '\0'; i++)
		if (strchr("0123456789abcdef", a[i]) == NULL)
			hex = 0;
	CHECK(hex, "lowercase hex only: %s", a);
	CHECK(rnd_hex(b, sizeof(b), 16) == 0 && strcmp(a, b) != 0,
	    "a second call gives other digits");

	errno = 0;
	memset(small, 'x', sizeof(small));
	CHECK(rnd_hex(small, sizeof(small), 16) == -1 && errno == ERANGE,
	    "no room for the NUL: ERANGE");
	CHECK(small[0] == 'x', "and nothing written");
	CHECK(rnd_hex(small, 0, 0) == -1 && errno == ERANGE,
	    "an empty buffer: ERANGE");
	CHECK(rnd_hex(small, 1, 0) == 0 && small[0] == '\0',
	    "no bytes: an empty string");
	CHECK(rnd_hex(a, sizeof(a), 20) == -1, "more than fits is refused");

	/* past one 32-byte chunk of rnd_hex and one getrandom call's worth
	 * of a small read */
	if ((big = calloc(1, 1 << 20)) == NULL)
		return 2;
	CHECK(rnd_bytes(big, 1 << 20) == 0, "a megabyte of random bytes");
	for (i = 0; i < 1 << 20; i++)
		zero += big[i] == 0;
	/* 4096 zeros expected of 2^20 random bytes; all-zero means unfilled */
	CHECK(zero < 1 << 16, "filled to the end (%zu zero bytes)", zero);
	CHECK(big[(1 << 20) - 1] != 0 || big[(1 << 20) - 2] != 0 ||
	    big[(1 << 20) - 3] != 0, "the last bytes were written too");
	free(big);
	return UNIT_DONE();
}
