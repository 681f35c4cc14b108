#!/bin/sh
# enquiry-milter used by strangers through a real Postfix: what broke
# when mail went to an enquiry address and a list at once.
#  - a post to enquiries@ and a list: the list's members get the list's
#    subject tag (not replaced by the enquiry's), no case reference in
#    the subject and no internal header; the enquiry is still recorded
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

milter_require postfix
milter_pf_setup
cp "$TOP/etc/templates/enquiry-ack.txt" "$M/ack.txt"
printf 'rachelle.stevens@rmet.org\nmember1@example.org\n' >"$M/partners.txt"
chmod 644 "$M/ack.txt" "$M/partners.txt"

{ milter_pf_conf; cat <<EOF
enquiry "enquiries@rmet.org" {
	route-to     = {"rachelle.stevens@rmet.org"}
	ack-from     = "Rushey Mead Educational Trust <enquiries@rmet.org>"
	ack-template = "$M/ack.txt"
}
list "partners@rmet.org" {
	name        = "Teaching school partners"
	members     = "$M/partners.txt"
	posting     = "open"
	owners      = {"rachelle.stevens@rmet.org"}
	subject-tag = "[Partners]"
}
EOF
} >"$M/m.conf"

milter_pf_start

D=$PF_DIR/msgs
mkdir -p "$D"
# send CASE FROM TO[,TO...]: the message $D/CASE
send() {
	swaks --server "127.0.0.1:$PF_PORT" --from "$2" --to "$3" \
	    --data "@$D/$1" --timeout 30 >"$PF_DIR/swaks.$1" 2>&1
}
# the sink file whose envelope recipient is $1 and that has header line $2
sink_with() {
	sink_for_rcpt "$1" | xargs -r grep -l -F -x -e "$2" | head -1
}
# the unfolded value of header field $2 in file $1
field() {
	python3 - "$1" "$2" <<'EOF'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
v = m.get(sys.argv[2])
print('' if v is None else ' '.join(str(v).split()))
EOF
}

# 1. a partner writes to enquiries@ and the list in one mail
cat >"$D/both" <<'EOF'
From: Pat Partner <pat@example.org>
To: enquiries@rmet.org, partners@rmet.org
Subject: Joint training day
Message-ID: <both.1@example.org>
X-Test-Case: both

Shall we hold a joint training day?
EOF
check "swaks sends to enquiries@ and the list" \
    send both pat@example.org enquiries@rmet.org,partners@rmet.org
# the copy (one, for every recipient) and the ack
n=$(sink_wait 2 60)
check "2 messages in the sink ($n)" [ "$n" -eq 2 ]
f=$(sink_with member1@example.org "X-Test-Case: both")
check "the list member got the post" [ -n "$f" ]
got=$(field "$f" Subject)
check "the members' Subject carries the list's tag ($got)" \
    [ "$got" = "[Partners] Joint training day" ]
checke "no internal header reaches the list's members" \
    '! grep -q -i "^X-Enquiry-" "$f"'
checke "governance is a member and got the same copy" \
    'grep -q -i -F "X-Rcpt-Args: <rachelle.stevens@rmet.org>" "$f"'
ref=$("$BIN" -c "$M/m.conf" -l 5 | awk '$5 == "pat@example.org" { print $1 }')
checke "the enquiry is recorded with a reference ($ref)" \
    'echo "$ref" | grep -q "^ENQ-[0-9]*-[0-9]*$"'
a=$(sink_for_rcpt pat@example.org | head -1)
checke "pat is acknowledged under that reference" \
    '[ -n "$a" ] && [ "$(field "$a" X-Enquiry-Reference)" = "$ref" ]'

milter_stop_checked "$M/milter.log"
milter_done "$M/milter.log" 30
