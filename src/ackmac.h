/* what makes an acknowledgement recognisably ours: a keyed MAC
 * (HMAC-SHA256, truncated to 80 bits) over its reference, a random part
 * and its recipient, carried in its Message-ID. the key is made once in
 * state-dir/ack.key (32 random bytes, mode 0600, owned by the milter's
 * user) and read at every start. an outsider who copies an
 * acknowledgement has the MAC for its own address only, and a real
 * acknowledgement goes to one recipient.
 *
 * ackmac_init returns 0, or -1 with err set ("PATH: why"); the others
 * 0 / -1 (no key, or no room) and 1 / 0 for a verdict. */
#ifndef ACKMAC_H
#define ACKMAC_H

#include <stddef.h>

/* room for a token: 8 hex digits, a dot, 20 hex digits */
#define ACKMAC_TOKEN_MAX	64

int	ackmac_init(const char *state_dir, char *err, size_t errsz);
/* the Message-ID token "RANDOM.MAC" for an acknowledgement of ref to rcpt
 * (bare, lower case); ack_compose makes it <REF.RANDOM.MAC@hostname> */
int	ackmac_token(const char *ref, const char *rcpt, char *out,
	    size_t outsz);
/* 1 when msgid is <REF.RANDOM.MAC@...> with a MAC this key made for that
 * REF and rcpt; ref gets REF then. 0 otherwise */
int	ackmac_verify(const char *msgid, const char *rcpt, char *ref,
	    size_t refsz);

#endif
