#!/bin/sh
# enquiry-milter's mailing lists end to end: a real (throwaway) Postfix on
# loopback with the milter attached, swaks as members and strangers,
# smtp-sink as every mailbox. confirmations, welcomes and moderation
# notices are submitted back into the same Postfix and land in the sink.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

milter_require postfix


milter_pf_setup
trap 'exit 1' INT TERM
mkdir -p "$M/lists"
printf '# partners\njane@example.org\nbob@example.org\ncarol@example.net\n' \
    >"$M/lists/partners.txt"
printf 'governor1@example.org\ngovernor2@example.org\n' >"$M/lists/governors.txt"
chown -R nobody "$M/lists"

{ milter_pf_conf; cat <<EOF
list "partners@rmet.org" {
	name        = "Teaching school partners"
	members     = "$M/lists/partners.txt"
	posting     = "members"
	owners      = {"rachelle.stevens@rmet.org"}
	subject-tag = "[Partners]"
	reply-to    = "list"
	archive     = true
}
list "governors-list@rmet.org" {
	name    = "Governors"
	members = "$M/lists/governors.txt"
	posting = "moderated"
	owners  = {"clerk@rmet.org"}
}
EOF
} >"$M/m.conf"

milter_pf_start
ok "throwaway postfix on 127.0.0.1:$PF_PORT, sink on 127.0.0.1:$PF_SINK_PORT"

send() { # send FROM TO SUBJECT [swaks options...]; output in $PF_DIR/swaks.out
	_f=$1 _t=$2 _s=$3; shift 3
	swaks --server "127.0.0.1:$PF_PORT" --from "$_f" --to "$_t" \
	    --h-Subject "$_s" --body "Hello, this is about $_s." \
	    --timeout 30 "$@" >"$PF_DIR/swaks.out" 2>&1
}
# the sink files for recipient $1 whose text has $2
sink_with() {
	for _f in $(sink_for_rcpt "$1"); do
		grep -q -F -- "$2" "$_f" && echo "$_f"
	done
}
# wait until a sink file for $1 has $2, for up to $3 seconds
sink_wait_for() {
	_i=0
	while [ -z "$(sink_with "$1" "$2")" ] && [ $_i -lt $(($3 * 10)) ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	[ -n "$(sink_with "$1" "$2")" ]
}
token_in() { # the token of the confirmation for $1 that has $2
	for _f in $(sink_with "$1" "$2"); do
		sed -n 's/^Subject: confirm \([0-9a-f]*\).*/\1/p' "$_f" | tr -d '\r'
	done | tail -1
}
is_member() { grep -q -i -x "$1" "$M/lists/partners.txt"; }

# 1. a member's post reaches every member with the list headers
check "a member posts" send jane@example.org partners@rmet.org "Friday meeting" \
    --add-header "From: Jane Smith <jane@example.org>"
n=0
for a in jane@example.org bob@example.org carol@example.net; do
	sink_wait_for "$a" "Friday meeting" 30 && n=$((n + 1))
done
check "every member got the post ($n of 3)" [ $n -eq 3 ]
post=$(sink_with bob@example.org "Friday meeting" | head -1)
check "envelope sender is the list's bounce address" \
    grep -q '^X-Mail-Args: <partners-bounces@rmet.org>' "$post"
check "the list address is not a recipient" \
    sh -c "! grep -q -i 'X-Rcpt-Args: <partners@rmet.org>' $(sink_for_rcpt bob@example.org | tr '\n' ' ')"
check "List-Id" grep -q '^List-Id: Teaching school partners <partners.rmet.org>' "$post"
for h in "List-Post: <mailto:partners@rmet.org>" \
    "List-Help: <mailto:partners-request@rmet.org?subject=help>" \
    "List-Subscribe: <mailto:partners-request@rmet.org?subject=subscribe>" \
    "List-Unsubscribe: <mailto:partners-request@rmet.org?subject=unsubscribe>" \
    "List-Owner: <mailto:rachelle.stevens@rmet.org>" \
    "Precedence: list" "Reply-To: <partners@rmet.org>" \
    "Subject: [Partners] Friday meeting"; do
	check "${h%%:*} as delivered" grep -q -F "$h" "$post"
done
check "the post archived" \
    [ "$(find "$M/state/archive/partners@rmet.org/new" -type f | wc -l)" -eq 1 ]

# 1a. a subject of 1,000+ characters: tagged as the enquiry subject is,
# cut at white space and folded to 78-character lines, never ending in a
# fold (a plain "%s %s" made one line of over a thousand characters)
long=$(i=1; while [ $i -le 100 ]; do printf 'longword%03d ' $i; i=$((i + 1)); done)
long=${long% }
check "a member posts a ${#long}-character subject" \
    send jane@example.org partners@rmet.org "$long"
sink_wait_for bob@example.org longword001 30
lpost=$(sink_with bob@example.org longword001 | head -1)
# the Subject field: its first line and its continuation lines, no CR
tr -d '\r' <"${lpost:-/dev/null}" | awk '/^Subject: / { s = 1; print; next }
    s && /^[ \t]/ { print; next } { s = 0 }' >"$PF_DIR/long-subject"
nl=$(wc -l <"$PF_DIR/long-subject")
widest=$(awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }' "$PF_DIR/long-subject")
check "the long list subject is folded ($nl lines, widest $widest)" \
    [ "$nl" -gt 1 -a "$widest" -le 78 ]
check "it starts with the tag and the subject" \
    grep -q '^Subject: \[Partners\] longword001 longword002' "$PF_DIR/long-subject"
check "it is cut at white space, a whole word last, no fold at the end" \
    sh -c "tail -1 '$PF_DIR/long-subject' | grep -q -E ' longword[0-9]{3}\$'"

# 2. a stranger is refused at RCPT, nothing queued or delivered
before=$(sink_count)
send stranger@example.com partners@rmet.org "let me in"
check "a non-member is refused at RCPT with 550 5.7.1" \
    grep -q '<\*\* 550 5.7.1 .*only members of partners@rmet.org may post' "$PF_DIR/swaks.out"
sleep 1
check "nothing delivered for the refused post" [ "$(sink_count)" -eq "$before" ]

# 3. a moderated post lands in the hold queue; the owner is told
check "a post to the moderated list is accepted" send parent@example.com \
    governors-list@rmet.org "Agenda item"
check "the owner is told how to release it" \
    sink_wait_for clerk@rmet.org "postsuper -H" 30
qid=$(sed -n 's/^ *postsuper -H \([0-9A-Za-z]*\).*/\1/p' \
    $(sink_with clerk@rmet.org "postsuper -H") | head -1)
held=$(postqueue -c "$PF_DIR/etc" -j 2>/dev/null | grep -c '"queue_name": *"hold"')
check "the post is in the hold queue (queue id $qid)" \
    sh -c "[ $held -eq 1 ] && [ -n '$qid' ] && [ -f '$PF_DIR/queue/hold/$qid' ]"
check "not delivered while held" [ -z "$(sink_with governor1@example.org "Agenda item")" ]
postsuper -c "$PF_DIR/etc" -H "$qid" >/dev/null 2>&1
pf_flush
check "released with postsuper -H, it reaches the members" \
    sink_wait_for governor2@example.org "Agenda item" 30

# 4. subscribe, confirm, unsubscribe, confirm: the members file changes
check "subscribe sent" send dan@example.org partners-request@rmet.org subscribe
check "a confirmation arrives" sink_wait_for dan@example.org "Subject: confirm " 30
c=$(sink_with dan@example.org "Subject: confirm " | head -1)
check "the confirmation has a null return path, Auto-Submitted" \
    sh -c "grep -q '^X-Mail-Args: <>' $c && grep -q '^Auto-Submitted: auto-replied' $c"
check "the request itself was consumed (not delivered)" \
    [ -z "$(sink_for_rcpt partners-request@rmet.org)" ]
check "not a member before confirming" sh -c "! grep -q dan@ $M/lists/partners.txt"
tok=$(token_in dan@example.org "asked to subscribe")
check "confirmed by mail to partners-confirm+TOKEN" send dan@example.org \
    "partners-confirm+$tok@rmet.org" "Re: confirm $tok"
check "welcome arrives" sink_wait_for dan@example.org "Subject: Welcome" 30
check "dan is in the members file" is_member dan@example.org
check "the change is logged" grep -q "subscribe <dan@example.org> confirmed" "$M/milter.log"
check "unsubscribe sent" send dan@example.org partners-request@rmet.org unsubscribe
sink_wait_for dan@example.org "asked to unsubscribe" 30
tok2=$(token_in dan@example.org "asked to unsubscribe")
check "a new confirmation ($tok2)" [ -n "$tok2" -a "$tok2" != "$tok" ]
check "confirmed by replying to the request address" send dan@example.org \
    partners-request@rmet.org "Re: confirm $tok2"
check "the unsubscription answered" sink_wait_for dan@example.org "Subject: Unsubscribed" 30
check "dan is no longer in the members file" sh -c "! grep -q dan@ $M/lists/partners.txt"

# 5. concurrent subscriptions never lose an edit
# (wait for the clients by pid: a bare wait would wait for the sink too)
N=12
pids=""
i=1
while [ $i -le $N ]; do
	swaks --server "127.0.0.1:$PF_PORT" --from "c$i@example.org" \
	    --to partners-request@rmet.org --h-Subject subscribe --body x \
	    --timeout 30 >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
got=0
i=1
while [ $i -le $N ]; do
	sink_wait_for "c$i@example.org" "Subject: confirm " 60 && got=$((got + 1))
	i=$((i + 1))
done
check "$N confirmations for $N concurrent subscriptions ($got)" [ $got -eq $N ]
pids=""
i=1
while [ $i -le $N ]; do
	t=$(token_in "c$i@example.org" "asked to subscribe")
	swaks --server "127.0.0.1:$PF_PORT" --from "c$i@example.org" \
	    --to "partners-confirm+$t@rmet.org" --h-Subject "Re: confirm" \
	    --body x --timeout 30 >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
n=0
i=1
while [ $i -le $N ]; do
	is_member "c$i@example.org" && n=$((n + 1))
	i=$((i + 1))
done
check "all $N concurrent confirmations in the members file ($n)" [ $n -eq $N ]
check "the original members are all still there" sh -c \
    "grep -q -x jane@example.org $M/lists/partners.txt && grep -q -x bob@example.org $M/lists/partners.txt && grep -q -x carol@example.net $M/lists/partners.txt && grep -q '^# partners' $M/lists/partners.txt"
check "no temporary members files left" \
    [ -z "$(find "$M/lists" -name '*.tmp.*')" ]

# 6. nothing left behind
milter_stop_checked "$M/milter.log"
sleep 1
check "queue empty" [ "$(pf_queue_count)" -eq 0 ]
milter_done "$M/milter.log"
