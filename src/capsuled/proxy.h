/* PROXY protocol v1 (text) and v2 (binary) header parser: pure, no i/o.
 * spec: haproxy's doc/proxy-protocol.txt */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>
#include <sys/socket.h>

/* the longest v1 line, CRLF included, the spec allows */
#define PROXY_V1_MAX	107
/* v2: 16-byte fixed part plus addresses and TLVs; the spec designs both
 * formats to fit one 536-byte segment, we allow some room for TLVs and
 * refuse anything longer, so a reader needs at most this many bytes */
#define PROXY_MAX_LEN	1024

struct proxy_info {
	int			local;	/* v2 LOCAL or v1 UNKNOWN: keep the socket's own address */
	struct sockaddr_storage	src, dst;
	socklen_t		srclen, dstlen;
};

/* > 0: a complete header of that many bytes was parsed into *pi;
 *   0: need more bytes (len is a strict prefix of a valid header);
 *  -1: not a valid PROXY header */
int	proxy_parse(const unsigned char *buf, size_t len, struct proxy_info *pi);

/* true when buf starts like a PROXY v1 or v2 signature (for the
 * plain listeners, which treat one as a bad request) */
int	proxy_looks_like(const unsigned char *buf, size_t len);

#endif
