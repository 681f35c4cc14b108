# capsuled and enquiry-milter: a plain Makefile.
# make | make run | make test | make check | make bench | make fuzz | make install

VERSION = 0.1.0
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
B = build
PKG_CONFIG ?= pkg-config

WARN = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wpointer-arith -Wsign-compare
CFLAGS ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
	-DSYSCONFDIR='"$(SYSCONFDIR)"'
# SANITIZE=1: ASan, UBSan and LSan, built with clang, whose one runtime
# writes every report to ASAN_OPTIONS' log_path (gcc's separate libubsan
# leaves its reports on stderr). build/ holds one flavour at a time:
# build/.flavour says which, and everything compiled is rebuilt when it
# changes, so sanitized and plain objects never mix
ifeq ($(SANITIZE),1)
SANITIZE_CC ?= clang
CC = $(SANITIZE_CC)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
FLAVOUR = sanitize
DEPS_FLAVOUR = $(B)/.deps-sanitize
else
FLAVOUR = plain
endif
ALL_CFLAGS = $(CFLAGS) $(WARN) -MMD -MP

# pkg-config is only asked once the build dependencies are installed
SSL_LIBS = $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
CONFUSE_LIBS = $(shell $(PKG_CONFIG) --libs libconfuse 2>/dev/null || echo -lconfuse)
SQLITE_LIBS = $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3)
PQ_CFLAGS = $(shell $(PKG_CONFIG) --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS = $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null || echo -lpq)
CURL_LIBS = $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
# the milter's HMAC (ackmac) needs libcrypto only: it never speaks TLS
CRYPTO_LIBS = $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
MILTER_LIBS = -lmilter -lpthread

# one folder per program under src/, and common/ for what more than one
# program needs; a module is a .c file of its folder, named without it.
# a program's sources see their own folder and common/, never another
# program's: a rule needed by two programs lives in common/
COMMON_MODS = log confline utf8 capsule request readfile rnd priv
# capsuled: every module but main goes into a library the unit tests link
CAPSULED_MODS = conf loc mime tls gemini server master sandbox proxy trust \
	addrcap buf gemtext plaintext plain
CAPSULED_LIBS = $(SSL_LIBS) $(CONFUSE_LIBS)
# enquiry-milter
MILTER_MODS = conf_milter conf_value milter enquiry milter_proto db db_sqlite \
	db_pg ack ackmac casestats casefmt \
	outmsg spool submit mailhdr mailbody template xio conf_mlist mlist \
	listcmd milter_list list_request list_archive list_mail digest daily
MILTER_ALL_LIBS = $(CONFUSE_LIBS) $(SQLITE_LIBS) $(PQ_LIBS) $(CURL_LIBS) $(MILTER_LIBS) $(CRYPTO_LIBS)

COMMON_OBJS = $(COMMON_MODS:%=$(B)/obj/common/%.o)
CAPSULED_OBJS = $(CAPSULED_MODS:%=$(B)/obj/capsuled/%.o)
MILTER_OBJS = $(MILTER_MODS:%=$(B)/obj/milter/%.o)
# every folder, for what sees all of them (unit tests, fuzz harnesses)
ALL_INC = -Isrc/common -Isrc/capsuled -Isrc/milter

PROGS = $(B)/capsuled $(B)/enquiry-milter $(B)/capsule-check $(B)/enquiries

UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

all: $(PROGS)

# plain make installs nothing: it says which packages are missing. make
# run, make test, make bench and make fuzz install what they need first
# (as root on Debian), then build
$(B)/.deps-build: contrib/deps.sh
	@mkdir -p $(B)
	@contrib/deps.sh --check build
	@touch $@

# clang and its sanitizer runtimes
$(B)/.deps-sanitize: contrib/deps.sh
	@mkdir -p $(B)
	@contrib/deps.sh --check build fuzz
	@touch $@

# rewritten only when the flavour changes, so its date says when it did
$(B)/.flavour: FORCE
	@mkdir -p $(B)
	@echo $(FLAVOUR) | cmp -s - $@ || echo $(FLAVOUR) > $@

# a source sees its own folder (as every "" include does) and common/
$(B)/obj/%.o: src/%.c $(B)/.flavour | $(B)/.deps-build $(DEPS_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/common $(ALL_CFLAGS) -c -o $@ $<

# libpq's header lives in its own directory
$(B)/obj/milter/db_pg.o: CPPFLAGS += $(PQ_CFLAGS)

$(B)/libcapsuled.a: $(CAPSULED_OBJS) $(COMMON_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/libmilter-mods.a: $(MILTER_OBJS) $(COMMON_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/capsuled: $(B)/obj/capsuled/capsuled.o $(B)/libcapsuled.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CAPSULED_LIBS)

# the capsule checker asks common/capsule.c what capsuled serves and lists
CHECK_OBJS = $(B)/obj/capsule-check/capsule-check.o \
	$(patsubst %,$(B)/obj/common/%.o,capsule request utf8 log readfile)
$(B)/capsule-check: $(CHECK_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/enquiry-milter: $(B)/obj/milter/enquiry-milter.o $(B)/libmilter-mods.a
	$(CC) $(LDFLAGS) -o $@ $^ $(MILTER_ALL_LIBS)

# the case register's command: the milter's modules, without libmilter
$(B)/enquiries: $(B)/obj/milter/enquiries.o $(B)/libmilter-mods.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CONFUSE_LIBS) $(SQLITE_LIBS) $(PQ_LIBS) $(CRYPTO_LIBS) \
		-lpthread

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libcapsuled.a $(B)/libmilter-mods.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(B)/libcapsuled.a $(B)/libmilter-mods.a \
		$(CAPSULED_LIBS) $(MILTER_ALL_LIBS)

# run the bundled capsule on localhost, in the foreground
run:
	@contrib/deps.sh build
	@$(MAKE) --no-print-directory all
	@contrib/run-setup.sh
	$(B)/capsuled -f -c etc/capsuled.conf

# SANITIZE=1 reaches the sub-make too, and needs clang
test:
	@contrib/deps.sh build test $(if $(filter 1,$(SANITIZE)),fuzz)
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@tests/run.sh

# the unit tests and the integration tests that take seconds each (FAST_TESTS
# in tests/run.sh): under a minute, for the edit-build-test loop. make test
# stays the whole suite, and what CI ends with
check:
	@contrib/deps.sh build test
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@FAST=1 tests/run.sh

check-capsule: all
	$(B)/capsule-check capsule

clean:
	rm -rf $(B)

.PHONY: all run test check check-capsule clean FORCE

# the benchmark: its own gemini load generator, then a table of
# capsuled against molly-brown. it measures and asserts nothing; a capsuled
# that does not build yet leaves molly-brown measured alone.
$(B)/gembench: tests/bench/gembench.c $(B)/.flavour | $(B)/.deps-build \
	    $(DEPS_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(SSL_LIBS) -lm

# what OpenSSL alone costs the server per request (no sockets): the floor
# (capsuled's own tls context: tls.o and what it needs)
TLSFLOOR_OBJS = $(B)/obj/capsuled/tls.o $(B)/obj/capsuled/conf.o \
	$(B)/obj/capsuled/loc.o $(B)/obj/common/request.o \
	$(B)/obj/capsuled/trust.o $(B)/obj/common/log.o $(B)/obj/common/utf8.o \
	$(B)/obj/common/confline.o
$(B)/tlsfloor: tests/bench/tlsfloor.c $(TLSFLOOR_OBJS) \
	    $(B)/.flavour | $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/capsuled -Isrc/common $(CFLAGS) $(WARN) \
	    $(LDFLAGS) -o $@ $< $(TLSFLOOR_OBJS) $(SSL_LIBS) $(CONFUSE_LIBS)

# the mail row's SMTP load generator: one session per message, C sessions
$(B)/mailblast: tests/bench/mailblast.c $(B)/.flavour | $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< -lpthread

# the mail row's floor: a libmilter filter that reads the message and keeps
# nothing (with -m: the five changes an enquiry gets, and nothing else)
# (negotiating through src/milter/milter_proto.c, as enquiry-milter does)
$(B)/nullmilter: tests/bench/nullmilter.c $(B)/obj/milter/milter_proto.o \
	    $(B)/.flavour | $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/milter -Isrc/common $(CFLAGS) $(WARN) \
	    $(LDFLAGS) -o $@ $< $(B)/obj/milter/milter_proto.o $(MILTER_LIBS)

# the milter's own decision code per message of each kind (no libmilter)
# with 1,000 and 100,000 cases registered
$(B)/regbench: tests/bench/regbench.c $(B)/libmilter-mods.a $(B)/.flavour \
	    | $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/milter -Isrc/common $(CFLAGS) $(WARN) \
	    $(LDFLAGS) -o $@ $< $(B)/libmilter-mods.a $(MILTER_ALL_LIBS)

# the case register's bench: a register of N cases written through the
# store's own calls
$(B)/regfill: tests/bench/regfill.c $(B)/libmilter-mods.a $(B)/.flavour | \
	    $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/milter -Isrc/common $(CFLAGS) $(WARN) \
	    $(LDFLAGS) -o $@ $< $(B)/libmilter-mods.a $(SQLITE_LIBS) $(PQ_LIBS) \
	    $(CRYPTO_LIBS) -lpthread

bench:
	@contrib/deps.sh build bench test
	@$(MAKE) --no-print-directory $(B)/gembench $(B)/mailblast \
		$(B)/tlsfloor $(B)/nullmilter $(B)/regfill
	@$(MAKE) --no-print-directory all || \
		echo "bench: capsuled did not build; measuring molly-brown only" >&2
	@tests/bench/run.sh
	@tests/bench/mail.sh
	@tests/bench/register.sh
	@$(MAKE) --no-print-directory $(B)/regbench && tests/bench/regbench.sh

# the mail row: messages/s arriving in smtp-sink through a
# throwaway Postfix with and without enquiry-milter, and their ratio
bench-mail:
	@contrib/deps.sh build test
	@$(MAKE) --no-print-directory all $(B)/mailblast $(B)/nullmilter
	@tests/bench/mail.sh

# the case register: enquiries on 100,000 cases, and the milter's cost per
# enquiry at 1,000 and 100,000
bench-register:
	@contrib/deps.sh build test
	@$(MAKE) --no-print-directory all $(B)/regfill $(B)/regbench
	@tests/bench/register.sh
	@tests/bench/regbench.sh

.PHONY: bench bench-mail bench-register

# make fuzz [FUZZ_SECONDS=N] [FUZZ=NAME]: every tests/fuzz/fuzz_NAME.c is
# built with clang's libFuzzer, ASan and UBSan against the modules in
# FUZZ_NAME_MODS (libraries in FUZZ_NAME_LIBS), then run for N seconds
# (default 30) on its seeds in tests/fuzz/NAME/ (or tests/fuzz/corpus/NAME/);
# inputs it finds go to build/fuzz/NAME/, crashes to build/fuzz/NAME-crash-*.
# FUZZ=NAME runs one.
# a new harness: add tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/NAME/, and
# its FUZZ_NAME_MODS line here, above the foreach.
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_gemtext_MODS = gemtext plaintext buf utf8
FUZZ_plaintext_MODS = plaintext buf utf8
FUZZ_proxy_MODS = proxy
FUZZ_request_MODS = request utf8
FUZZ_mailhdr_MODS = mailhdr utf8
FUZZ_mailbody_MODS = mailbody
FUZZ_template_MODS = template
FUZZ_listcmd_MODS = listcmd mailhdr utf8
# the configuration path: libconfuse, the validators, locations (fuzz_conf.c)
FUZZ_conf_MODS = conf loc confline log request utf8
FUZZ_conf_LIBS = $(CONFUSE_LIBS)
# the whole request path, over a capsule it makes (tests/fuzz/fuzz_serve.c)
FUZZ_serve_MODS = server gemini plain capsule request mime conf loc confline \
	tls trust addrcap sandbox proxy buf utf8 gemtext plaintext log rnd priv
FUZZ_serve_LIBS = $(SSL_LIBS) $(CONFUSE_LIBS)

define fuzz_harness
$(B)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c \
	    $(foreach m,$(FUZZ_$(1)_MODS),$(wildcard src/*/$(m).c)) \
	    $(wildcard src/*/*.h) | $(B)/.deps-sanitize
	@command -v $$(FUZZ_CC) >/dev/null || \
		{ echo "make fuzz needs $$(FUZZ_CC): apt-get install clang" >&2; exit 1; }
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(CPPFLAGS) $$(ALL_INC) $$(FUZZ_CFLAGS) $$(WARN) -o $$@ \
		$$(filter %.c,$$^) $$(FUZZ_$(1)_LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_harness,$(n))))

# every harness runs even when one fails, so one crash hides no other;
# the target fails at the end, naming the harnesses that did
fuzz:
	@contrib/deps.sh build fuzz
	@$(MAKE) --no-print-directory \
		$(foreach n,$(or $(FUZZ),$(FUZZ_NAMES)),$(B)/fuzz/fuzz_$(n))
	@failed=; for n in $(or $(FUZZ),$(FUZZ_NAMES)); do \
		seeds=; for d in tests/fuzz/$$n tests/fuzz/corpus/$$n; do \
			[ -d $$d ] && seeds="$$seeds $$d"; done; \
		mkdir -p $(B)/fuzz/$$n; \
		echo "# fuzz_$$n: $(FUZZ_SECONDS)s on$$seeds"; \
		$(B)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=$(B)/fuzz/$$n- \
			$(B)/fuzz/$$n $$seeds || failed="$$failed $$n"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "# fuzz: failed:$$failed (inputs in $(B)/fuzz/NAME-crash-*)" >&2; \
		exit 1; \
	fi

.PHONY: fuzz

# make install / make uninstall: contrib/install.sh does the work
# and says how edited configs and capsule pages are kept (never overwritten:
# the new version goes beside an edited config as FILE.dist). the binaries
# carry SYSCONFDIR for their default config: give the same SYSCONFDIR to
# make and make install (the systemd units pass -c anyway).
DATADIR ?= $(PREFIX)/share
DOCDIR ?= $(DATADIR)/doc/capsuled
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# the daemons go to BINDIR (sbin); capsule-check is a user's command
USERBINDIR ?= $(PREFIX)/bin
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" \
	SYSCONFDIR="$(SYSCONFDIR)" BINDIR="$(BINDIR)" MANDIR="$(MANDIR)" \
	USERBINDIR="$(USERBINDIR)" \
	DATADIR="$(DATADIR)" DOCDIR="$(DOCDIR)" \
	SYSTEMDUNITDIR="$(SYSTEMDUNITDIR)" SYSUSERSDIR="$(SYSUSERSDIR)" B="$(B)"

install: all
	@$(INSTALL_ENV) sh contrib/install.sh install

uninstall:
	@$(INSTALL_ENV) sh contrib/install.sh uninstall

.PHONY: install uninstall

-include $(wildcard $(B)/obj/*/*.d)
