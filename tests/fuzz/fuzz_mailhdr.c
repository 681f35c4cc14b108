/* libFuzzer: the mail header parser, rfc 2047 both ways, folding and the
 * rfc 3834 classifier. beyond crashes it checks that nothing a sender
 * writes can come out of the encoder or the folder as a header line of its
 * own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailhdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* after every line break comes folding white space: no injected field */
static void
check_folded(const char *s)
{
	const char *p;

	for (p = s; (p = strpbrk(p, "\r\n")) != NULL; p++) {
		if (p[0] == '\r' && p[1] != '\n')
			abort();
		if (p[0] == '\n' && p[1] != ' ' && p[1] != '\t')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const own[] = { "enquiries@rmet.org" };
	struct mailhdr_info info;
	char *text, *line, *next, *envfrom;
	char addr[512], name[512], dec[4096], enc[8192], ids[4096], ref[64];
	size_t qplen;
	int needed;
	char *qp;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	mailhdr_info_init(&info);
	/* the first line is the envelope sender, the rest "Name: value" */
	envfrom = text;
	line = strchr(text, '\n');
	if (line != NULL)
		*line++ = '\0';
	for (; line != NULL && *line; line = next) {
		char *colon;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		mailhdr_note(&info, line, colon + 1);
		if (mailhdr_addr_parse(colon + 1, addr, sizeof(addr), name,
		    sizeof(name)) == 0)
			mailhdr_addr_valid(addr);
		if (mailhdr_decode(colon + 1, dec, sizeof(dec)) == 0) {
			if (strpbrk(dec, "\r\n") != NULL)
				abort();	/* decoding yields one line */
			if (mailhdr_encode_text(dec, "\r\n ", enc,
			    sizeof(enc)) == 0)
				check_folded(enc);
			if (mailhdr_encode_phrase(dec, "\r\n ", enc,
			    sizeof(enc)) == 0)
				check_folded(enc);
		}
		/* folding: breaks only before blanks, and the tagged
		 * subject never ends in a break or a blank */
		if (mailhdr_fold(colon + 1, 9, "\r\n", enc,
		    sizeof(enc)) == 0)
			check_folded(enc);
		if (mailhdr_subject_tag(colon + 1, size & 1, "[ENQ-1]", "\n",
		    enc, sizeof(enc)) == 0) {
			size_t n = strlen(enc);

			check_folded(enc);
			if (n == 0 || strchr(" \t\r\n", enc[n - 1]) != NULL)
				abort();
		}
		mailhdr_msgids(colon + 1, ids, sizeof(ids));
		mailhdr_find_tag(colon + 1, "ENQ", ref, sizeof(ref));
	}
	mailhdr_classify(envfrom, &info, own, 1);
	mailhdr_auth_failed(&info, "mx.rmet.org");
	mailhdr_envaddr(envfrom, addr, sizeof(addr));
	mailhdr_is_role_address(envfrom);
	if (mailhdr_encode_text(info.subject, "\r\n ", enc, sizeof(enc)) == 0)
		check_folded(enc);
	if ((qp = mailhdr_qp_encode((const char *)data, size, &qplen,
	    &needed)) != NULL) {
		/* quoted-printable lines stay within 76 characters */
		size_t run = 0, i;

		for (i = 0; i < qplen; i++) {
			if (qp[i] == '\n')
				run = 0;
			else if (qp[i] != '\r' && ++run > 76)
				abort();
		}
		free(qp);
	}
	free(text);
	return 0;
}
