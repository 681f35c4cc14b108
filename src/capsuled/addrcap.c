/* the per-address connection count shared by every worker */
#include <sys/mman.h>

#include <netinet/in.h>

#include <stdint.h>
#include <string.h>

#include "addrcap.h"
#include "rnd.h"

struct addrcap_table {
	uint64_t	key[2];		/* the hash secret */
	uint32_t	count[ADDRCAP_BUCKETS][ADDRCAP_SLOTS];
};

static struct addrcap_table *addrcap_tab;
static int addrcap_me = -1;

int
addrcap_init(void)
{
	void *p;

	if (addrcap_tab != NULL)
		return 0;
	p = mmap(NULL, sizeof(*addrcap_tab), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	addrcap_tab = p;
	if (rnd_bytes(addrcap_tab->key, sizeof(addrcap_tab->key)) == -1) {
		munmap(p, sizeof(*addrcap_tab));
		addrcap_tab = NULL;
		return -1;
	}
	return 0;
}

void
addrcap_clear(int slot)
{
	unsigned b;

	if (addrcap_tab == NULL || slot < 0 || slot >= ADDRCAP_SLOTS)
		return;
	for (b = 0; b < ADDRCAP_BUCKETS; b++)
		__atomic_store_n(&addrcap_tab->count[b][slot], 0,
		    __ATOMIC_RELAXED);
}

void
addrcap_slot(int slot)
{
	addrcap_me = slot >= 0 && slot < ADDRCAP_SLOTS ? slot : -1;
}

/* a keyed mix of the address bytes (fnv-1a, then a murmur finaliser):
 * without the key a client cannot aim at another's bucket */
static uint64_t
addrcap_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ addrcap_tab->key[0];
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= addrcap_tab->key[1];
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

unsigned
addrcap_bucket(const struct sockaddr_storage *ss)
{
	unsigned char key[9];
	size_t n;

	if (addrcap_tab == NULL)
		return 0;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, &s6->sin6_addr.s6_addr[12], 4);
			n = 5;
		} else {
			/* one host, one /64 */
			key[0] = 6;
			memcpy(key + 1, &s6->sin6_addr.s6_addr[0], 8);
			n = 9;
		}
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
		n = 5;
	} else {
		key[0] = 0;
		n = 1;
	}
	return (unsigned)(addrcap_hash(key, n) % ADDRCAP_BUCKETS);
}

int
addrcap_take(unsigned bucket, int cap)
{
	uint32_t *row;
	unsigned long held = 0;
	int i;

	if (addrcap_tab == NULL || addrcap_me == -1 || cap <= 0 ||
	    bucket >= ADDRCAP_BUCKETS)
		return 1;	/* nothing to count with: never refuse */
	row = addrcap_tab->count[bucket];
	for (i = 0; i < ADDRCAP_SLOTS; i++)
		held += __atomic_load_n(&row[i], __ATOMIC_RELAXED);
	if (held >= (unsigned long)cap)
		return 0;
	__atomic_store_n(&row[addrcap_me], row[addrcap_me] + 1,
	    __ATOMIC_RELAXED);
	return 1;
}

void
addrcap_release(unsigned bucket)
{
	uint32_t *row;

	if (addrcap_tab == NULL || addrcap_me == -1 ||
	    bucket >= ADDRCAP_BUCKETS)
		return;
	row = addrcap_tab->count[bucket];
	if (row[addrcap_me] > 0)
		__atomic_store_n(&row[addrcap_me], row[addrcap_me] - 1,
		    __ATOMIC_RELAXED);
}
