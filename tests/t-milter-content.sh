#!/bin/sh
# enquiry-milter, what a message says (issue 15 items 4, 12, 13), end to
# end: a throwaway Postfix on loopback with the milter attached, swaks as
# the public, smtp-sink as every mailbox, acknowledgements submitted back
# into the same Postfix.
#  4. keywords match whole words of the decoded subject and text: issue
#     15's three examples, an html-only mail, multiparts with attachments
# 12. long subjects: the ack's Subject folded at white space (no line over
#     78), the routed copy's cut at white space, an over-long encoded word
#     kept as written instead of "(no subject)"
# 13. the ack names the team of the category it was routed to and the
#     interval rule; -n checks every template
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

[ -x "$BIN" ] || { echo "not ok - $BIN not built"; exit 1; }

# 1. -n checks every template, the categories' too (no postfix needed)
T=$(mktemp -d /tmp/t-content.XXXXXX) || exit 1
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt"
printf 'Dear {{name}}, {{team}} has your visit {{reference}}.\n' >"$T/visit.txt"
printf 'Caf\351 {{reference}}\n' >"$T/latin1.txt"
printf 'fine\n{{teem}}\n' >"$T/typo.txt"
nconf() { # nconf CATEGORY-TEMPLATE [KEYWORD]
	cat <<EOF
user     = "nobody"
hostname = "rmet.org"
enquiry "enquiries@rmet.org" {
	route-to     = {"rachelle.stevens@rmet.org"}
	ack-template = "$T/ack.txt"
	category "visit" {
		keywords     = {"${2:-visit}"}
		route-to     = {"visits@rmet.org"}
		team         = "our visits coordinator"
		ack-template = "$1"
	}
}
EOF
}
nconf "$T/visit.txt" >"$T/n.conf"
check "-n accepts a category's own template" \
    "$BIN" -n -c "$T/n.conf"
nconf "$T/latin1.txt" >"$T/n.conf"
out=$("$BIN" -n -c "$T/n.conf" 2>&1)
checke "-n refuses a category template that is not UTF-8 ($out)" \
    '[ "$out" = "$T/latin1.txt:1: not UTF-8" ]'
nconf "$T/typo.txt" >"$T/n.conf"
out=$("$BIN" -n -c "$T/n.conf" 2>&1)
checke "-n refuses an unknown placeholder in a category template ($out)" \
    '[ "$out" = "$T/typo.txt:2: unknown placeholder \"teem\"" ]'
nconf "$T/missing.txt" >"$T/n.conf"
out=$("$BIN" -n -c "$T/n.conf" 2>&1)
checke "-n refuses a missing category template, with file:line ($out)" \
    'echo "$out" | grep -q "^$T/n.conf:[0-9]*: ack-template \"$T/missing.txt\": No such file"'
nconf "$T/visit.txt" "--" >"$T/n.conf"
out=$("$BIN" -n -c "$T/n.conf" 2>&1)
checke "-n refuses a keyword that can never match a word ($out)" \
    'echo "$out" | grep -q "keyword \"--\" has no letter or digit"'
rm -rf "$T"

milter_require postfix
milter_pf_setup
cp "$TOP/etc/templates/enquiry-ack.txt" "$M/ack.txt"
chmod 644 "$M/ack.txt"

{ milter_pf_conf; cat <<EOF
enquiry "enquiries@rmet.org" {
	route-to       = {"rachelle.stevens@rmet.org"}
	reference      = "ENQ"
	ack-from       = "Rushey Mead Educational Trust <enquiries@rmet.org>"
	ack-template   = "$M/ack.txt"
	ack-interval   = "7d"
	team           = "our Head of Governance, Rachelle Stevens, and the governance team"
	category "visit" {
		keywords = {"visit", "tour", "open day"}
		route-to = {"visits@rmet.org"}
		team     = "our visits coordinator"
	}
}
EOF
} >"$M/m.conf"

milter_pf_start

# send CASE FROM FILE: the message in FILE (LF lines), from FROM
D=$PF_DIR/msgs
mkdir -p "$D"
send() {
	swaks --server "127.0.0.1:$PF_PORT" --from "$2" \
	    --to enquiries@rmet.org --data "@$3" --timeout 30 \
	    >"$PF_DIR/swaks.$1" 2>&1
}
# msg CASE FROM SUBJECT [HEADER...]: the header of a message to FILE
# $D/CASE; the body follows on stdin
msg() {
	_c=$1 _f=$2 _s=$3; shift 3
	{
		printf 'From: <%s>\nTo: <enquiries@rmet.org>\n' "$_f"
		printf 'Subject: %s\nMessage-ID: <%s.%s@example.org>\n' \
		    "$_s" "$_c" "$$"
		printf 'X-Test-Case: %s\n' "$_c"
		for h in "$@"; do printf '%s\n' "$h"; done
		printf '\n'
		cat
	} >"$D/$_c"
}

# python helpers on sink files: a field unfolded, the longest line of
# the header (or of one field), the body
py() {
	python3 - "$@" <<'EOF'
import re, sys
op, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read().decode('utf-8', 'replace')
head, _, body = data.replace('\r\n', '\n').partition('\n\n')
lines = head.split('\n')
def field(name):
    out, on = [], False
    for l in lines:
        if l[:1] in (' ', '\t') and on:
            out.append(l)
            continue
        on = l.lower().startswith(name.lower() + ':')
        if on:
            out.append(l)
    return out
if op == 'field':
    f = field(sys.argv[3])
    print(''.join(f)[len(sys.argv[3]) + 2:] if f else '')
elif op == 'longest':
    # one field, or what the milter wrote (not the sink's and postfix's)
    skip = ('x-mail-args:', 'x-rcpt-args:', 'received:')
    if len(sys.argv) > 3:
        f = field(sys.argv[3])
    else:
        f, on = [], True
        for l in lines:
            if l[:1] not in (' ', '\t'):
                on = not l.lower().startswith(skip)
            if on:
                f.append(l)
    print(max([len(l) for l in f] or [0]))
elif op == 'body':
    import email
    m = email.message_from_string(data.replace('\r\n', '\n'))
    sys.stdout.write(m.get_payload(decode=True).decode('utf-8', 'replace'))
EOF
}
# the routed copy of case C (it has X-Enquiry-Category), and the ack to
# address A
routed() {
	grep -l -r -E "^X-Test-Case: $1[[:space:]]*\$" "$PF_SINK" 2>/dev/null |
	    xargs -r grep -l '^X-Enquiry-Category:' | head -1
}
ack_to() {
	sink_for_rcpt "$1" | head -1
}
category() {
	_r=$(routed "$1")
	[ -n "$_r" ] && py field "$_r" X-Enquiry-Category
}

# 2. the messages of issue 15 item 4, and what a keyword may not see
msg fixtures fixtures@example.org "Football tournament fixtures" <<'EOF'
Please send the fixtures for the spring term.
EOF
msg b64 b64@example.org "A question" "MIME-Version: 1.0" \
    "Content-Type: text/plain; charset=utf-8" \
    "Content-Transfer-Encoding: base64" <<EOF
$(printf 'Dear governors,\nwe would like to visit the academy.\n' | base64)
EOF
msg bounce MAILER-DAEMON@example.org "Undelivered Mail Returned to Sender" "MIME-Version: 1.0" \
    "Content-Type: multipart/report; report-type=delivery-status;" \
    "	boundary=\"rep.1\"" <<'EOF'
This is a MIME-encapsulated message.

--rep.1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.
I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--rep.1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Final-Recipient: rfc822; jane@example.org
Action: failed
Status: 5.1.1

--rep.1
Content-Type: message/rfc822

From: Rachelle Stevens <rachelle.stevens@rmet.org>
Subject: Re: your visit
Message-ID: <gov.1@rmet.org>

Thank you for your visit on Tuesday.
--rep.1--
EOF
msg html html@example.org "Next term" "MIME-Version: 1.0" \
    "Content-Type: text/html; charset=iso-8859-1" \
    "Content-Transfer-Encoding: quoted-printable" <<'EOF'
<html><head><style>p.fixtures { color: red }</style></head>
<body><p>Could we arrange a <b>to</b>ur of the school's caf=E9 and=
 garden?</p></body></html>
EOF
msg htmlno htmlno@example.org "Next term" "MIME-Version: 1.0" \
    "Content-Type: text/html; charset=utf-8" <<'EOF'
<html><head><title>A visit</title><script>var tour = 1;</script></head>
<body><p class="visit">Please send the <a href="https://x.example/tour">fixtures</a>.</p>
<!-- open day --></body></html>
EOF
msg attach attach@example.org "Fixtures list" "MIME-Version: 1.0" \
    "Content-Type: multipart/mixed; boundary=\"mix\"" <<EOF
--mix
Content-Type: text/plain; charset=utf-8

Please find our fixtures list attached.
--mix
Content-Type: application/pdf; name="visit-tour.pdf"
Content-Disposition: attachment; filename="visit-tour.pdf"
Content-Transfer-Encoding: base64

$(printf 'visit tour open day\n' | base64)
--mix--
EOF
msg nested nested@example.org "Next term" "MIME-Version: 1.0" \
    "Content-Type: multipart/mixed; boundary=\"outer\"" <<EOF
--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

When is your next open=
 day?
--alt
Content-Type: text/html; charset=utf-8

<p>When is your next <i>open day</i>?</p>
--alt--
--outer
Content-Type: image/png; name="logo.png"
Content-Disposition: attachment; filename="logo.png"
Content-Transfer-Encoding: base64

$(head -c 3000 /dev/urandom | base64)
--outer--
EOF

for c in fixtures b64 html htmlno attach nested; do
	check "swaks sends the $c enquiry" send $c "$c@example.org" "$D/$c"
done
check "swaks sends the bounce" send bounce "<>" "$D/bounce"
# each case: one routed copy; six acknowledgements (not the bounce)
n=$(sink_wait 13 60)
check "13 messages in the sink: 7 routed, 6 acknowledged ($n)" [ "$n" -eq 13 ]
for c in fixtures bounce htmlno attach; do
	got=$(category $c)
	check "$c: category general, not visit ($got)" [ "$got" = general ]
done
for c in b64 html nested; do
	got=$(category $c)
	check "$c: category visit ($got)" [ "$got" = visit ]
done
checke "fixtures routed to governance, the base64 visit to visits@" \
    'grep -q "^X-Rcpt-Args: <rachelle.stevens@rmet.org>" "$(routed fixtures)" &&
     grep -q "^X-Rcpt-Args: <visits@rmet.org>" "$(routed b64)"'

# 3. item 13: the ack names the team the enquiry went to, and the rule
a=$(ack_to b64@example.org)
py body "$a" >"$PF_DIR/ack.b64"
py body "$(ack_to fixtures@example.org)" >"$PF_DIR/ack.fix"
checke "the visit ack names the visits coordinator, not Rachelle" \
    'grep -q "passed to our visits coordinator\." "$PF_DIR/ack.b64" &&
     ! grep -q "Rachelle" "$PF_DIR/ack.b64"'
checke "the general ack names the Head of Governance" \
    'tr "\n" " " <"$PF_DIR/ack.fix" | grep -q "passed to our Head of Governance, Rachelle *Stevens"'
checke "the ack states the interval rule, not 'only once for each enquiry'" \
    'tr "\n" " " <"$PF_DIR/ack.fix" | grep -q "at most one acknowledgement to an address every 7 *days" &&
     ! tr "\n" " " <"$PF_DIR/ack.fix" | grep -q "only once"'

# 4. item 12: long subjects
long=$(python3 -c 'print(" ".join("word%03d" % i for i in range(127)))')
longer=$(python3 -c 'print(" ".join("longer%03d" % i for i in range(170)))')
ew=$(python3 -c 'import base64; print("=?UTF-8?B?" + base64.b64encode(b"visit " * 235).decode() + "?=")')
msg long long@example.org "$long" </dev/null
msg longer longer@example.org "$longer" </dev/null
msg ew ew@example.org "$ew" </dev/null
for c in long longer ew; do
	check "swaks sends the $c subject (${#long}, ${#longer}, ${#ew} characters)" \
	    send $c "$c@example.org" "$D/$c"
done
n=$(sink_wait 19 60)
check "19 messages in the sink ($n)" [ "$n" -eq 19 ]
a=$(ack_to long@example.org)
r=$(routed long)
ref=$(py field "$r" X-Enquiry-Reference)
got=$(py field "$a" Subject)
checke "the ack's Subject unfolds to Re: [ref] and the whole subject" \
    '[ "$got" = "Re: [$ref] $long" ]'
got=$(py longest "$a" Subject)
check "the ack's Subject lines are at most 78 characters ($got)" [ "$got" -le 78 ]
got=$(py longest "$a")
check "every header line of the ack is at most 78 ($got)" [ "$got" -le 78 ]
got=$(py field "$r" Subject)
checke "the routed Subject is [ref] and the whole subject" \
    '[ "$got" = "[$ref] $long" ]'
got=$(py longest "$r" Subject)
check "the routed Subject lines are at most 78 ($got)" [ "$got" -le 78 ]
r=$(routed longer)
ref=$(py field "$r" X-Enquiry-Reference)
got=$(py field "$r" Subject)
rest=${got#"[$ref] "}
checke "a subject over the tagging limit is cut between words (...${rest##* })" \
    'case "$longer" in "$rest "*) true ;; *) false ;; esac &&
     [ ${#rest} -gt 900 ] && [ ${#rest} -lt 1024 ]'
got=$(py longest "$r" Subject)
check "the cut Subject is folded too ($got)" [ "$got" -le 78 ]
a=$(ack_to ew@example.org)
py body "$a" >"$PF_DIR/ack.ew"
checke "an over-long encoded word is kept as written, not (no subject)" \
    'grep -q "Subject: *=?UTF-8?B?dmlzaXQg" "$PF_DIR/ack.ew" &&
     ! grep -q "(no subject)" "$PF_DIR/ack.ew"'
got=$(py longest "$a")
check "its ack's header lines are at most 78 ($got)" [ "$got" -le 78 ]
checke "-l shows the over-long subject, not an empty one" \
    '"$BIN" -c "$M/m.conf" -l 1 | grep -q "=?UTF-8?B?dmlz"'

milter_stop_checked "$M/milter.log"
milter_done "$M/milter.log" 30
