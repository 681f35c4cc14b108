/* what enquiry-milter asks of the MTA; see milter_proto.h */
#include <pthread.h>

#include "milter_proto.h"

int
milter_proto_symlists(SMFICTX *ctx, int nomail)
{
	if (smfi_setsymlist(ctx, SMFIM_CONNECT, "{milter_none}") !=
	    MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_HELO, "{milter_none}") != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVFROM, "{milter_none}") !=
	    MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVRCPT, nomail ? "{mail_addr}" :
	    "{milter_none}") != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_DATA, "{auth_authen}") != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_EOH, "{milter_none}") != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_EOM, "i") != MI_SUCCESS)
		return -1;
	return 0;
}

/*
 * libmilter (as Debian builds it) keeps a small pool of workers and starts
 * and ends threads as sessions come and go. With the default 8 MB stacks
 * glibc's stack cache (40 MB) holds five, so most new threads map a fresh
 * stack and most exits unmap one. 1 MB is ample for every callback here
 * (the largest frames are a few KB) and lets the cache keep forty.
 */
int
milter_proto_thread_stacks(void)
{
	pthread_attr_t a;
	int rc;

	if (pthread_attr_init(&a) != 0)
		return -1;
	rc = pthread_attr_setstacksize(&a, 1024 * 1024) == 0 &&
	    pthread_setattr_default_np(&a) == 0 ? 0 : -1;
	pthread_attr_destroy(&a);
	return rc;
}
