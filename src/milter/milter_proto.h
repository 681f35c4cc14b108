/*
 * what enquiry-milter asks of the MTA: the actions it may take, the steps
 * it skips or takes without a reply, the macros it wants at each step, and
 * the thread stacks libmilter's workers run on. in a module of its own so
 * the mail bench's floor filter (tests/bench/nullmilter.c) asks for exactly
 * the same.
 */
#ifndef MILTER_PROTO_H
#define MILTER_PROTO_H

#include <libmilter/mfapi.h>

/* header, recipient and sender changes */
#define MILTER_PROTO_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | \
	SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGFROM)
/*
 * the one decision before end of message is made at DATA, when every
 * recipient is known: no connect, HELO or end-of-header step, and no reply
 * at MAIL, RCPT, header or body. every step the mta sends while the filter
 * waits costs libmilter a hand-off between its threads. SMFIP_NOMAIL is
 * added where the mta takes macro lists (see milter_proto_symlists).
 */
#define MILTER_PROTO_STEPS	(SMFIP_NOCONNECT | SMFIP_NOHELO | \
	SMFIP_NOUNKNOWN | SMFIP_NOEOH | SMFIP_NR_CONN | SMFIP_NR_HELO | \
	SMFIP_NR_UNKN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
	SMFIP_NR_EOH | SMFIP_NR_BODY)

/*
 * macros: the sender ({mail_addr}) with RCPT where the MAIL step is
 * skipped (nomail), whether the client authenticated ({auth_authen}, for
 * staff replies) at DATA, the queue id at end of message, nothing else;
 * every
 * macro packet costs the mta and the filter a read. -1 when the mta
 * refused a list: then all macros come, and MAIL is needed
 */
int	milter_proto_symlists(SMFICTX *, int nomail);

/* 1 MB default thread stacks (see milter_proto.c); -1 if unchanged */
int	milter_proto_thread_stacks(void);

#endif
