/*
 * nullmilter: the floor under the mail row of `make bench`. A libmilter
 * filter that asks the MTA for exactly the steps and macros enquiry-milter
 * asks for (no connect, HELO, MAIL or end-of-header step; no reply at RCPT,
 * header or body; a reply at DATA and at end of message), reads every
 * header and body chunk, and keeps nothing: no database, no spool, no
 * acknowledgement. With -m it also makes, at end of message, the five
 * changes the enquiry issue asks of an enquiry: two headers added, the
 * subject changed, a recipient added and one removed.
 *
 * The steps, macros, actions and thread stacks come from enquiry-milter's
 * own src/milter/milter_proto.c. What the row measures for it is what any
 * libmilter filter doing that costs this Postfix here; what enquiry-milter
 * costs above it is its own.
 *
 *   nullmilter [-m] -p unix:/path
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter_proto.h"

static int	 modify;

struct nm_msg {
	char	rcpt[330];	/* the first recipient, to remove */
	int	n;
};

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	/* a floor for a postfix that takes macro lists, as in the bench */
	if ((f0 & MILTER_PROTO_ACTIONS) != MILTER_PROTO_ACTIONS ||
	    !(f0 & SMFIF_SETSYMLIST) || milter_proto_symlists(ctx, 1) == -1)
		return SMFIS_REJECT;
	*pf0 = MILTER_PROTO_ACTIONS | SMFIF_SETSYMLIST;
	*pf1 = f1 & (MILTER_PROTO_STEPS | SMFIP_NOMAIL);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct nm_msg *m = smfi_getpriv(ctx);

	if (m == NULL) {
		if ((m = calloc(1, sizeof(*m))) == NULL)
			return SMFIS_NOREPLY;
		smfi_setpriv(ctx, m);
	}
	if (m->n++ == 0 && argv[0] != NULL)
		snprintf(m->rcpt, sizeof(m->rcpt), "%s", argv[0]);
	(void)smfi_getsymval(ctx, "{mail_addr}");
	return SMFIS_NOREPLY;
}

static sfsistat
nm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return SMFIS_NOREPLY;
}

static void
nm_free(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	struct nm_msg *m = smfi_getpriv(ctx);
	sfsistat r = SMFIS_CONTINUE;

	(void)smfi_getsymval(ctx, "i");
	if (modify && m != NULL &&
	    (smfi_addheader(ctx, "X-Enquiry-Reference", "ENQ-2026-000042") !=
	    MI_SUCCESS ||
	    smfi_addheader(ctx, "X-Enquiry-Category", "general") !=
	    MI_SUCCESS ||
	    smfi_chgheader(ctx, "Subject", 1, "[ENQ-2026-000042] enquiry") !=
	    MI_SUCCESS ||
	    smfi_addrcpt(ctx, "<rachelle.stevens@rmet.org>") != MI_SUCCESS ||
	    smfi_delrcpt(ctx, m->rcpt) != MI_SUCCESS))
		r = SMFIS_TEMPFAIL;
	nm_free(ctx);
	return r;
}

static sfsistat
nm_abort(SMFICTX *ctx)
{
	nm_free(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
nm_close(SMFICTX *ctx)
{
	nm_free(ctx);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "nullmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = MILTER_PROTO_ACTIONS,
		.xxfi_envrcpt = nm_envrcpt,
		.xxfi_header = nm_header,
		.xxfi_data = nm_data,
		.xxfi_body = nm_body,
		.xxfi_eom = nm_eom,
		.xxfi_abort = nm_abort,
		.xxfi_close = nm_close,
		.xxfi_negotiate = nm_negotiate,
	};
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "mp:")) != -1) {
		switch (ch) {
		case 'm':
			modify = 1;
			break;
		case 'p':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL)
		goto usage;
	(void)milter_proto_thread_stacks();
	if (smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: nullmilter [-m] -p unix:/path\n");
	return 2;
}
