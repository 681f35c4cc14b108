/*
 * PROXY protocol header parser, versions 1 (text) and 2 (binary), as
 * haproxy's doc/proxy-protocol.txt specifies them. pure: no i/o, no
 * allocation, so the server, the unit tests and the fuzzer drive it alike.
 *
 * the parser is incremental in the sense that it can be called again with
 * more bytes: every field is checked as far as the bytes go, so a header
 * that cannot become valid is refused as soon as that shows, and a valid
 * header cut anywhere asks for more.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "proxy.h"
#include "hex.h"

enum { PX_BAD = -1, PX_MORE = 0, PX_OK = 1 };

static const unsigned char proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PROXY_V2_HDR	16
#define PP2_CMD_LOCAL	0x0
#define PP2_CMD_PROXY	0x1
#define PP2_FAM_UNSPEC	0x0
#define PP2_FAM_INET	0x1
#define PP2_FAM_INET6	0x2
#define PP2_FAM_UNIX	0x3
#define PP2_PROTO_UNSPEC 0x0
#define PP2_PROTO_STREAM 0x1
#define PP2_PROTO_DGRAM	0x2
#define PP2_TYPE_CRC32C	0x03

/* a read position over the bytes received so far */
struct proxy_cur {
	const unsigned char	*buf;
	size_t			 len, off;
};

static int
proxy_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

/* match a literal; a buffer that ends inside it asks for more */
static int
proxy_lit(struct proxy_cur *c, const char *lit)
{
	size_t i, n = strlen(lit);

	for (i = 0; i < n; i++) {
		if (c->off + i >= c->len)
			return PX_MORE;
		if (c->buf[c->off + i] != (unsigned char)lit[i])
			return PX_BAD;
	}
	c->off += n;
	return PX_OK;
}

/*
 * a decimal field of at most maxdig digits, no leading zero, at most max;
 * it ends at the first non-digit, which is left for the caller.
 */
static int
proxy_decimal(struct proxy_cur *c, unsigned maxdig, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	unsigned nd = 0;
	int ch;

	for (;;) {
		if (c->off >= c->len)
			return PX_MORE;
		ch = c->buf[c->off];
		if (!proxy_isdigit(ch))
			break;
		/* 1. no leading zero (octal confusion), 2. bounded */
		if (nd > 0 && v == 0)
			return PX_BAD;
		if (++nd > maxdig)
			return PX_BAD;
		v = v * 10 + (unsigned long)(ch - '0');
		if (v > max)
			return PX_BAD;
		c->off++;
	}
	if (nd == 0)
		return PX_BAD;
	*out = v;
	return PX_OK;
}

/* dotted quad: exactly four decimal parts 0..255, no leading zeroes */
static int
proxy_ipv4(struct proxy_cur *c, unsigned char out[4])
{
	unsigned long v;
	int i, r;

	for (i = 0; i < 4; i++) {
		if (i > 0 && (r = proxy_lit(c, ".")) != PX_OK)
			return r;
		if ((r = proxy_decimal(c, 3, 255, &v)) != PX_OK)
			return r;
		out[i] = (unsigned char)v;
	}
	/* a fifth part cannot make it valid */
	if (c->off < c->len && c->buf[c->off] == '.')
		return PX_BAD;
	return PX_OK;
}

/*
 * ipv6 text form: groups of 1-4 hex digits separated by colons, at most one
 * "::" standing for one or more zero groups, optionally ending in a dotted
 * quad (inet_ntop writes v4-mapped addresses that way), 128 bits in all.
 * dead ends are refused as soon as they show, so a cut address asks for
 * more only while it can still be completed.
 */
static int
proxy_ipv6(struct proxy_cur *c, unsigned char out[16])
{
	enum { S_START, S_LEADCOLON, S_GROUP, S_COLON, S_DCOLON } st = S_START;
	uint16_t grp[8];
	int ng = 0, dc = -1, nd = 0, hv, i, r;
	unsigned gv = 0;
	size_t gstart = 0;
	unsigned char v4[4];
	int ch;

	for (;;) {
		if (c->off >= c->len)
			return PX_MORE;
		ch = c->buf[c->off];
		hv = hex_value(ch);

		if (hv >= 0) {
			if (st == S_LEADCOLON)
				return PX_BAD;
			if (st != S_GROUP) {
				/* 1. a new group must still fit */
				if (ng + 1 + (dc >= 0) > 8)
					return PX_BAD;
				st = S_GROUP;
				nd = 0;
				gv = 0;
				gstart = c->off;
			}
			if (++nd > 4)
				return PX_BAD;
			gv = gv * 16 + (unsigned)hv;
			c->off++;
			continue;
		}
		if (ch == ':') {
			switch (st) {
			case S_START:
				st = S_LEADCOLON;
				break;
			case S_LEADCOLON:
			case S_COLON:
				/* 2. "::" once, standing for at least one group */
				if (dc >= 0 || ng > 7)
					return PX_BAD;
				dc = ng;
				st = S_DCOLON;
				break;
			case S_GROUP:
				grp[ng++] = (uint16_t)gv;
				/* 3. something must still fit after the colon */
				if (ng > (dc >= 0 ? 6 : 7))
					return PX_BAD;
				st = S_COLON;
				break;
			case S_DCOLON:
				return PX_BAD;
			}
			c->off++;
			continue;
		}
		if (ch == '.' && st == S_GROUP) {
			/* 4. the group just read starts an ipv4 tail, which
			 * takes two groups and must end the address */
			if (dc >= 0 ? ng + 2 + 1 > 8 : ng + 2 != 8)
				return PX_BAD;
			c->off = gstart;
			if ((r = proxy_ipv4(c, v4)) != PX_OK)
				return r;
			grp[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
			grp[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
			break;
		}
		/* 5. any other byte ends the address */
		if (st == S_GROUP)
			grp[ng++] = (uint16_t)gv;
		else if (st != S_DCOLON)
			return PX_BAD;
		break;
	}
	if (dc < 0 && ng != 8)
		return PX_BAD;

	/* 6. expand "::" to the missing zero groups */
	memset(out, 0, 16);
	for (i = 0; i < ng; i++) {
		int slot = (dc >= 0 && i >= dc) ? 8 - ng + i : i;

		out[2 * slot] = (unsigned char)(grp[i] >> 8);
		out[2 * slot + 1] = (unsigned char)(grp[i] & 0xff);
	}
	return PX_OK;
}

static void
proxy_set4(struct sockaddr_storage *ss, socklen_t *sl, const unsigned char a[4],
    unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	memcpy(&sin.sin_addr, a, 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	*sl = sizeof(sin);
}

static void
proxy_set6(struct sockaddr_storage *ss, socklen_t *sl,
    const unsigned char a[16], unsigned port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons((uint16_t)port);
	memcpy(&sin6.sin6_addr, a, 16);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin6, sizeof(sin6));
	*sl = sizeof(sin6);
}

/* "UNKNOWN": whatever follows up to CRLF is ignored, but a lone CR or LF
 * never ends the line */
static int
proxy_v1_unknown(struct proxy_cur *c)
{
	int ch;

	if (c->off >= c->len)
		return PX_MORE;
	if (c->buf[c->off] != ' ' && c->buf[c->off] != '\r')
		return PX_BAD;
	for (;;) {
		if (c->off >= c->len)
			return PX_MORE;
		ch = c->buf[c->off];
		if (ch == '\n')
			return PX_BAD;
		if (ch == '\r')
			return proxy_lit(c, "\r\n");
		/* this byte and the CRLF must fit the line */
		if (c->off + 1 + 2 > PROXY_V1_MAX)
			return PX_BAD;
		c->off++;
	}
}

/*
 * v1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF,
 * or "PROXY UNKNOWN" ... CRLF; 107 bytes at most.
 */
static int
proxy_v1(const unsigned char *buf, size_t len, struct proxy_info *pi)
{
	struct proxy_cur c;
	unsigned char src[16], dst[16];
	unsigned long sport, dport;
	int r, v6;

	c.buf = buf;
	c.len = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	c.off = 0;

	if ((r = proxy_lit(&c, "PROXY ")) != PX_OK)
		goto out;
	/* 1. the protocol and family */
	if ((r = proxy_lit(&c, "TCP4 ")) == PX_OK)
		v6 = 0;
	else if (r == PX_BAD && (r = proxy_lit(&c, "TCP6 ")) == PX_OK)
		v6 = 1;
	else if (r == PX_BAD && (r = proxy_lit(&c, "UNKNOWN")) == PX_OK) {
		if ((r = proxy_v1_unknown(&c)) != PX_OK)
			goto out;
		memset(pi, 0, sizeof(*pi));
		pi->local = 1;
		return (int)c.off;
	} else
		goto out;

	/* 2. addresses, the family's own syntax for both */
	r = v6 ? proxy_ipv6(&c, src) : proxy_ipv4(&c, src);
	if (r != PX_OK || (r = proxy_lit(&c, " ")) != PX_OK)
		goto out;
	r = v6 ? proxy_ipv6(&c, dst) : proxy_ipv4(&c, dst);
	if (r != PX_OK || (r = proxy_lit(&c, " ")) != PX_OK)
		goto out;
	/* 3. ports */
	if ((r = proxy_decimal(&c, 5, 65535, &sport)) != PX_OK ||
	    (r = proxy_lit(&c, " ")) != PX_OK)
		goto out;
	if ((r = proxy_decimal(&c, 5, 65535, &dport)) != PX_OK ||
	    (r = proxy_lit(&c, "\r\n")) != PX_OK)
		goto out;

	memset(pi, 0, sizeof(*pi));
	if (v6) {
		proxy_set6(&pi->src, &pi->srclen, src, (unsigned)sport);
		proxy_set6(&pi->dst, &pi->dstlen, dst, (unsigned)dport);
	} else {
		proxy_set4(&pi->src, &pi->srclen, src, (unsigned)sport);
		proxy_set4(&pi->dst, &pi->dstlen, dst, (unsigned)dport);
	}
	return (int)c.off;
out:
	/* 4. no CRLF within the first 107 bytes: not a PROXY line; nor can
	 * a line that has no room left for its CRLF become one */
	if (r == PX_MORE && (len >= PROXY_V1_MAX ||
	    (len >= PROXY_V1_MAX - 1 && buf[len - 1] != '\r')))
		return -1;
	return r == PX_MORE ? 0 : -1;
}

/* crc32c (castagnoli, reflected), the 4 bytes at skip counted as zero */
static uint32_t
proxy_crc32c(const unsigned char *buf, size_t len, size_t skip)
{
	uint32_t crc = 0xffffffff;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= (i >= skip && i < skip + 4) ? 0 : buf[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
	}
	return ~crc;
}

/*
 * TLVs after the address block: each one complete inside the header; we use
 * none but CRC32C, which is verified as the spec requires of receivers that
 * support it. only the bytes already received are walked.
 */
static int
proxy_v2_tlvs(const unsigned char *buf, size_t len, size_t off, size_t total)
{
	size_t tlen;
	uint32_t want;

	while (off < total) {
		if (off + 3 > total)
			return PX_BAD;
		if (off + 3 > len)
			return PX_MORE;
		tlen = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (off + 3 + tlen > total)
			return PX_BAD;
		if (buf[off] == PP2_TYPE_CRC32C) {
			if (tlen != 4)
				return PX_BAD;
			if (len >= total) {
				want = (uint32_t)buf[off + 3] << 24 |
				    (uint32_t)buf[off + 4] << 16 |
				    (uint32_t)buf[off + 5] << 8 | buf[off + 6];
				if (proxy_crc32c(buf, total, off + 3) != want)
					return PX_BAD;
			}
		}
		off += 3 + tlen;
	}
	return len >= total ? PX_OK : PX_MORE;
}

static int
proxy_v2(const unsigned char *buf, size_t len, struct proxy_info *pi)
{
	size_t n, alen, total, need = 0;
	int cmd, fam, proto, r;
	unsigned sport, dport;

	/* 1. the 12-byte signature */
	n = len < sizeof(proxy_v2_sig) ? len : sizeof(proxy_v2_sig);
	if (memcmp(buf, proxy_v2_sig, n) != 0)
		return -1;
	if (len < 13)
		return 0;
	/* 2. version 2, command LOCAL or PROXY */
	if ((buf[12] >> 4) != 2)
		return -1;
	cmd = buf[12] & 0x0f;
	if (cmd != PP2_CMD_LOCAL && cmd != PP2_CMD_PROXY)
		return -1;
	if (len < 14)
		return 0;
	/* 3. family and protocol: LOCAL ignores them, PROXY needs known ones */
	fam = buf[13] >> 4;
	proto = buf[13] & 0x0f;
	if (cmd == PP2_CMD_PROXY) {
		if (fam > PP2_FAM_UNIX || proto > PP2_PROTO_DGRAM)
			return -1;
		if (fam != PP2_FAM_UNSPEC && proto != PP2_PROTO_UNSPEC)
			need = fam == PP2_FAM_INET ? 12 :
			    fam == PP2_FAM_INET6 ? 36 : 216;
	}
	if (len < PROXY_V2_HDR)
		return 0;
	/* 4. the length: room for the addresses, and bounded */
	alen = (size_t)buf[14] << 8 | buf[15];
	total = PROXY_V2_HDR + alen;
	if (total > PROXY_MAX_LEN || alen < need)
		return -1;
	/* 5. TLVs follow a known address block; with UNSPEC or LOCAL where
	 * the addresses end is not known, and the whole block is skipped */
	if (need > 0) {
		r = proxy_v2_tlvs(buf, len, PROXY_V2_HDR + need, total);
		if (r != PX_OK)
			return r == PX_MORE ? 0 : -1;
	} else if (len < total)
		return 0;

	memset(pi, 0, sizeof(*pi));
	/* 6. only TCP over ipv4/ipv6 carries addresses we use; the other
	 * valid combinations fall back to the socket's own, as the spec
	 * allows */
	if (cmd == PP2_CMD_LOCAL || proto != PP2_PROTO_STREAM ||
	    (fam != PP2_FAM_INET && fam != PP2_FAM_INET6)) {
		pi->local = 1;
		return (int)total;
	}
	if (fam == PP2_FAM_INET) {
		sport = (unsigned)buf[24] << 8 | buf[25];
		dport = (unsigned)buf[26] << 8 | buf[27];
		proxy_set4(&pi->src, &pi->srclen, buf + 16, sport);
		proxy_set4(&pi->dst, &pi->dstlen, buf + 20, dport);
	} else {
		sport = (unsigned)buf[48] << 8 | buf[49];
		dport = (unsigned)buf[50] << 8 | buf[51];
		proxy_set6(&pi->src, &pi->srclen, buf + 16, sport);
		proxy_set6(&pi->dst, &pi->dstlen, buf + 32, dport);
	}
	return (int)total;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_info *pi)
{
	if (len == 0)
		return 0;
	if (buf[0] == 'P')
		return proxy_v1(buf, len, pi);
	if (buf[0] == proxy_v2_sig[0])
		return proxy_v2(buf, len, pi);
	return -1;
}

int
proxy_looks_like(const unsigned char *buf, size_t len)
{
	/* the spec's own test: "PROXY" for v1, the 12-byte block for v2 */
	if (len >= 5 && memcmp(buf, "PROXY", 5) == 0)
		return 1;
	if (len >= sizeof(proxy_v2_sig) &&
	    memcmp(buf, proxy_v2_sig, sizeof(proxy_v2_sig)) == 0)
		return 1;
	return 0;
}
