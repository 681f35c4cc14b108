#!/bin/sh
# enquiry-milter end to end: a real (throwaway) Postfix on loopback with the
# milter attached, swaks as the member of the public, smtp-sink as every
# mailbox. acknowledgements are submitted back into the same Postfix.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

milter_require postfix
milter_pf_setup

{ milter_pf_conf; cat <<EOF
enquiry "enquiries@rmet.org" {
	route-to       = {"rachelle.stevens@rmet.org"}
	reference      = "ENQ"
	ack-from       = "Rushey Mead Educational Trust <enquiries@rmet.org>"
	ack-template   = "$TOP/etc/templates/enquiry-ack.txt"
	ack-interval   = "7d"
	bounce-address = "enquiries-bounces@rmet.org"
	category "visit" {
		keywords = {"visit", "tour"}
		route-to = {"visits@rmet.org"}
	}
}
EOF
} >"$M/m.conf"

milter_pf_start
ok "throwaway postfix on 127.0.0.1:$PF_PORT, sink on 127.0.0.1:$PF_SINK_PORT"

send() { # send FROM TO SUBJECT [swaks options...]
	_f=$1 _t=$2 _s=$3; shift 3
	swaks --server "127.0.0.1:$PF_PORT" --from "$_f" --to "$_t" \
	    --h-Subject "$_s" --body "Hello, I am writing about $_s." \
	    --timeout 30 "$@" >"$PF_DIR/swaks.out" 2>&1
}

# the one sink file for recipient $1, when there is exactly one
one_for() {
	_files=$(sink_for_rcpt "$1")
	[ "$(echo "$_files" | grep -c .)" -eq 1 ] && echo "$_files"
}

# 1. an enquiry: routed copy at governance and an acknowledgement
check "swaks sends an enquiry" send jane@example.org enquiries@rmet.org \
    "Visit in June" --add-header "From: Jane Smith <jane@example.org>"
n=$(sink_wait 2 30)
check "two messages reach the sink (routed copy and acknowledgement): $n" \
    [ "$n" -eq 2 ]
routed=$(one_for visits@rmet.org)
ref=$(sed -n 's/^X-Enquiry-Reference: //p' "$routed" 2>/dev/null | tr -d '\r')
isref() { echo "$1" | grep -q -x 'ENQ-[0-9]\{4\}-[0-9]\{6\}'; }
check "routed copy at governance with reference $ref" isref "$ref"
check "routed copy has the category" grep -q '^X-Enquiry-Category: visit' "$routed"
check "routed copy's subject is tagged" \
    grep -q "^Subject: \[$ref\] Visit in June" "$routed"
check "enquiries address removed from the envelope" \
    sh -c "! grep -q -i 'X-Rcpt-Args: <enquiries@rmet.org>' '$routed'"
check "bounces go to the bounce address (smfi_chgfrom)" \
    grep -q '^X-Mail-Args: <enquiries-bounces@rmet.org>' "$routed"
ack=$(one_for jane@example.org)
check "acknowledgement at the sender" [ -n "$ack" ]
check "acknowledgement has a null return path" grep -q '^X-Mail-Args: <>' "$ack"
check "acknowledgement is Auto-Submitted: auto-replied" \
    grep -q '^Auto-Submitted: auto-replied' "$ack"
check "acknowledgement carries the same reference" \
    grep -q "^Subject: Re: \[$ref\] Visit in June" "$ack"
check "acknowledgement passed the milter untouched" \
    sh -c "! grep -q '^X-Enquiry-Category' '$ack'"
check "acknowledgement answers the enquiry (In-Reply-To)" \
    grep -q '^In-Reply-To: <' "$ack"

# 2. a second enquiry within the interval: routed, not acknowledged
check "second enquiry from the same sender sent" send jane@example.org \
    enquiries@rmet.org "A question about governors"
n=$(sink_wait 3 30)
sleep 2	# time for an acknowledgement that must not come
check "second enquiry routed" [ "$(sink_for_rcpt rachelle.stevens@rmet.org | grep -c .)" -eq 1 ]
check "second enquiry not acknowledged (one ack for jane)" \
    [ "$(sink_for_rcpt jane@example.org | grep -c .)" -eq 1 ]

# 3. bulk, list, auto-submitted and bounce enquiries: routed, never acked
check "bulk enquiry sent" send bulk@example.org enquiries@rmet.org "bulk news" \
    --add-header "Precedence: bulk"
check "list enquiry sent" send list@example.org enquiries@rmet.org "list post" \
    --add-header "List-Id: <parents.example.org>"
check "auto-submitted enquiry sent" send auto@example.org enquiries@rmet.org \
    "out of office" --add-header "Auto-Submitted: auto-replied"
check "bounce enquiry sent" send "<>" enquiries@rmet.org "Undelivered Mail" \
    --add-header "From: MAILER-DAEMON@example.org"
n=$(sink_wait 7 30)
sleep 2
check "all four routed to governance ($n in the sink)" \
    [ "$(sink_for_rcpt rachelle.stevens@rmet.org | grep -c .)" -eq 5 ]
for s in bulk list auto; do
	check "no acknowledgement to $s@example.org" \
	    [ -z "$(sink_for_rcpt $s@example.org)" ]
done
check "no acknowledgement to a null sender" [ "$(sink_count)" -eq 7 ]
# automatic mail is marked, and takes no case number
auto=$(grep -l '^Subject: out of office' $(sink_for_rcpt rachelle.stevens@rmet.org) 2>/dev/null)
check "out-of-office copy marked X-Enquiry-Automatic: auto-submitted" \
    grep -q '^X-Enquiry-Automatic: auto-submitted' "$auto"
check "out-of-office copy has a marker, not a case reference, untagged" \
    sh -c "grep -q '^X-Enquiry-Reference: AUTO-ENQ-[0-9]\{4\}-[0-9]\{6\}' '$auto' &&
    ! grep -q '^Subject: \[' '$auto'"
check "-l shows the automatic mail as such" \
    [ "$("$BIN" -c "$M/m.conf" -l 4 | grep -c '^AUTO-ENQ-[0-9-]* *automatic ')" -eq 4 ]

# 4. the milter stopped: postfix tempfails, nothing is lost
milter_stop
send late@example.org enquiries@rmet.org "while the milter is down"
check "milter down: postfix answers 451 4.7.1" \
    grep -q '451 4.7.1' "$PF_DIR/swaks.out"
sleep 1
checke "milter down: nothing queued, nothing delivered" \
    '[ "$(pf_queue_count)" -eq 0 ] && [ "$(sink_count)" -eq 7 ]'
# a file left in spool/free/ by an earlier run is garbage: removed at start
stale=$M/state/spool/free/f999
echo stale >"$stale" && chown --reference="$M/state/spool/free" "$stale"
check "milter restarted" milter_start
check "the client's retry is accepted" send late@example.org \
    enquiries@rmet.org "while the milter is down"
n=$(sink_wait 9 30)
check "after the restart: routed copy and acknowledgement ($n)" [ "$n" -eq 9 ]
check "a stale file in spool/free/ was removed at start" [ ! -e "$stale" ]
check "the retried enquiry is acknowledged once" \
    [ "$(sink_for_rcpt late@example.org | grep -c .)" -eq 1 ]
check "references carry on after the restart (automatic mail took none)" \
    [ "$("$BIN" -c "$M/m.conf" -l 1 | grep -c '^ENQ-[0-9]*-000003 ')" -eq 1 ]

# 4b. governance answers jane's second enquiry with the enquiry address in
# copy: jane's copy carries no internal header, rachelle gets no copy back,
# the register has it under jane's case
gov=$(sink_for_rcpt rachelle.stevens@rmet.org | xargs grep -l 'Subject: .*A question about governors')
govid=$(sed -n 's/^[Mm]essage-[Ii][Dd]: *//p' "$gov" | tr -d '\r' | head -1)
govref=$(sed -n 's/^X-Enquiry-Reference: //p' "$gov" | tr -d '\r')
check "governance replies to jane, enquiries@ in copy" send \
    rachelle.stevens@rmet.org jane@example.org,enquiries@rmet.org \
    "Re: A question about governors" \
    --add-header "From: Rachelle Stevens <rachelle.stevens@rmet.org>" \
    --add-header "Cc: enquiries@rmet.org" --add-header "In-Reply-To: $govid" \
    --add-header "X-Enquiry-Category: forged"
n=$(sink_wait 10 30)
sleep 2	# time for a copy back that must not come
reply=$(grep -l 'From: Rachelle Stevens' $(sink_for_rcpt jane@example.org) 2>/dev/null)
check "jane gets the reply ($n in the sink)" [ -n "$reply" ]
check "jane's copy carries no X-Enquiry- header" \
    sh -c "! grep -q -i '^X-Enquiry-' '$reply'"
check "the reply is tagged with jane's case $govref" \
    grep -q "^Subject: \[$govref\] Re: A question about governors" "$reply"
check "rachelle does not get her own reply back" \
    [ "$(sink_for_rcpt rachelle.stevens@rmet.org | xargs grep -l 'From: Rachelle Stevens' | grep -c .)" -eq 0 ]
check "the reply is recorded against $govref, a follow-up" \
    [ "$("$BIN" -c "$M/m.conf" -l 1 | grep -c "^$govref *follow-up .*rachelle.stevens@rmet.org")" -eq 1 ]

# 4c. the look of our own acknowledgement from outside: inbound mail,
# routed and recorded, its headers replaced, never acknowledged
check "a forged acknowledgement sent" send "<>" enquiries@rmet.org \
    "Re: [$govref] change of bank details" \
    --add-header "From: Rushey Mead Educational Trust <enquiries@rmet.org>" \
    --add-header "Auto-Submitted: auto-replied" \
    --add-header "X-Enquiry-Reference: $govref"
n=$(sink_wait 11 30)
forged=$(grep -l 'change of bank details' $(sink_for_rcpt rachelle.stevens@rmet.org) 2>/dev/null)
check "the forged acknowledgement is routed to governance ($n in the sink)" \
    [ -n "$forged" ]
check "its X-Enquiry-Reference is ours, a marker, not the forged $govref" \
    sh -c "[ \"\$(grep -c '^X-Enquiry-Reference: ' '$forged')\" -eq 1 ] &&
    grep -q '^X-Enquiry-Reference: AUTO-ENQ-' '$forged'"

# 5. nothing left behind
milter_stop_checked "$M/milter.log"
sleep 1
check "queue empty" [ "$(pf_queue_count)" -eq 0 ]
check "spool empty" [ -z "$(find "$M/state/spool/new" "$M/state/spool/tmp" -type f)" ]
check "every decision logged with the queue id" \
    [ "$(grep -c ': enquiry enquiries@rmet.org ref=ENQ-' "$M/milter.log")" -eq 4 ] &&
    [ "$(grep -c ': enquiry enquiries@rmet.org ref=AUTO-ENQ-' "$M/milter.log")" -eq 5 ]
milter_done "$M/milter.log"
