-- posts to lists: every posting policy, the expansion, the list headers,
-- the subject tag, Reply-To, the archive, moderation, enquiries routed to
-- a list
dofile(dir .. "/list_lib.lua")

-- 1. members: a member's post goes to every member
local conn, r, at = lsend({ from = "<Jane@Example.org>",
    rcpts = { "<partners@rmet.org>" },
    headers = { { "From", "Jane Smith <jane@example.org>" },
	{ "Subject", "Meeting on Friday" },
	{ "Reply-To", "<jane.private@example.org>" },
	{ "List-Id", "Another list <other.example.com>" },
	{ "Precedence", "bulk" } },
    body = "See you there.\r\nJane\r\n" })
check(accepted(r) and at == "eom", "members list: a member's post accepted")
check(mt.eom_check(conn, MT_RCPTDELETE, "<partners@rmet.org>"),
    "the list address removed")
for _, a in ipairs({ "jane@example.org", "bob@example.org",
    "carol@example.net" }) do
	check(mt.eom_check(conn, MT_RCPTADD, "<" .. a .. ">"),
	    "member " .. a .. " added (the sender too)")
end
check(mt.eom_check(conn, MT_HDRADD, "List-Id",
    "Teaching school partners <partners.rmet.org>"), "List-Id (RFC 2919)")
check(mt.eom_check(conn, MT_HDRADD, "List-Post", "<mailto:partners@rmet.org>"),
    "List-Post")
check(mt.eom_check(conn, MT_HDRADD, "List-Help",
    "<mailto:partners-request@rmet.org?subject=help>"), "List-Help")
check(mt.eom_check(conn, MT_HDRADD, "List-Subscribe",
    "<mailto:partners-request@rmet.org?subject=subscribe>"), "List-Subscribe")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe",
    "<https://lists.rmet.org/unsubscribe/partners>, " ..
    "<mailto:partners-request@rmet.org?subject=unsubscribe>"),
    "List-Unsubscribe with the http endpoint first")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post",
    "List-Unsubscribe=One-Click"), "List-Unsubscribe-Post (RFC 8058)")
check(mt.eom_check(conn, MT_HDRADD, "List-Owner",
    "<mailto:rachelle.stevens@rmet.org>"), "List-Owner")
check(mt.eom_check(conn, MT_HDRADD, "Precedence", "list"), "Precedence: list")
check(mt.eom_check(conn, MT_HDRADD, "Reply-To", "<partners@rmet.org>"),
    "Reply-To the list")
check(mt.eom_check(conn, MT_HDRDELETE, "Reply-To") and
    mt.eom_check(conn, MT_HDRDELETE, "List-Id") and
    mt.eom_check(conn, MT_HDRDELETE, "Precedence"),
    "the post's own Reply-To, List-Id and Precedence removed")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[Partners] Meeting on Friday"),
    "subject tagged")
-- (miltertest cannot see smfi_chgfrom: t-list-postfix.sh checks the
-- envelope sender the members get)
mt.disconnect(conn)
check(log_has("partners@rmet.org post from=<jane@example.org> members=3 archived"),
    "the post logged with its member count")

-- the archive: a maildir message as the members get it
local p = io.popen("ls " .. state .. "/archive/partners@rmet.org/new/ 2>/dev/null")
local files = {}
for name in p:lines() do table.insert(files, name) end
p:close()
check(#files == 1, "archived: one file in the maildir's new/ (" .. #files .. ")")
local a = slurp(state .. "/archive/partners@rmet.org/new/" .. (files[1] or "none"))
check(string.sub(a, 1, 32) == "Return-Path: <jane@example.org>\n",
    "archive: Return-Path first")
check(has(a, "\nList-Id: Teaching school partners <partners.rmet.org>\n") and
    has(a, "\nSubject: [Partners] Meeting on Friday\n") and
    has(a, "\nReply-To: <partners@rmet.org>\n") and
    not has(a, "jane.private") and not has(a, "other.example.com"),
    "archive: the header as distributed")
check(has(a, "\n\nSee you there.\nJane\n"), "archive: the body, LF lines")
check(not has(a, "\r"), "archive: no CR left")
local t = io.popen("ls " .. state .. "/archive/partners@rmet.org/tmp/ | wc -l")
check(tonumber(t:read("*l")) == 0, "archive: nothing left in tmp/")
t:close()

-- 2. the tag once: a reply already carrying it
conn, r = lsend({ from = "<bob@example.org>", rcpts = { "<partners@rmet.org>" },
    headers = { { "Subject", "Re: [Partners] Meeting on Friday" } } })
check(accepted(r), "a reply from a member (address in other case in the file)")
check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "tag not doubled")
mt.disconnect(conn)
-- no Subject at all: the tag becomes one
conn, r = lsend({ from = "<carol@example.net>", rcpts = { "<partners@rmet.org>" } })
check(accepted(r) and mt.eom_check(conn, MT_HDRADD, "Subject", "[Partners]"),
    "no subject: the tag is added as one")
mt.disconnect(conn)

-- 3. a stranger is refused at RCPT with 5.7.1, so nothing bounces later
conn, r, at = lsend({ from = "<stranger@example.com>",
    rcpts = { "<partners@rmet.org>" } })
check(refused(r) and at == "rcpt", "members list: a stranger refused at RCPT")
mt.disconnect(conn)
check(log_has("list partners@rmet.org: post from <stranger@example.com> refused at RCPT: not a member"),
    "the refusal logged")
-- the owner may post though not in the members file
conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners@rmet.org>" } })
check(accepted(r), "members list: an owner may post")
mt.disconnect(conn)
-- a stranger writing to the list and someone else: only the list refused
conn, r, at, rr = lsend({ from = "<stranger@example.com>",
    rcpts = { "<partners@rmet.org>", "<someone@example.net>" } })
check(refused(rr["<partners@rmet.org>"]) and
    rr["<someone@example.net>"] == SMFIR_CONTINUE,
    "only the list recipient is refused")
check(accepted(r) and not added_any(conn, { "jane@example.org", "bob@example.org" }),
    "the other recipient gets it, nothing expanded")
mt.disconnect(conn)
-- a null return path is refused on any list
conn, r = lsend({ from = "<>", rcpts = { "<open@rmet.org>" } })
check(refused(r), "a null return path refused at RCPT")
mt.disconnect(conn)

-- 4. open: anyone; exclude-sender; reply-to = sender leaves Reply-To alone
conn, r = lsend({ from = "<reader1@example.org>", rcpts = { "<open@rmet.org>" },
    headers = { { "Reply-To", "<r1@example.org>" }, { "Subject", "hi" } } })
check(accepted(r), "open list: a post accepted")
check(mt.eom_check(conn, MT_RCPTADD, "<reader2@example.org>") and
    not mt.eom_check(conn, MT_RCPTADD, "<reader1@example.org>"),
    "exclude-sender: the sender is not sent a copy")
check(not mt.eom_check(conn, MT_HDRDELETE, "Reply-To") and
    not mt.eom_check(conn, MT_HDRADD, "Reply-To"),
    "reply-to = sender: Reply-To untouched")
check(not mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post"),
    "no List-Unsubscribe-Post without an http endpoint")
check(mt.eom_check(conn, MT_HDRADD, "List-Id", "open <open.rmet.org>"),
    "List-Id named after the local part by default")
check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "no tag configured")
mt.disconnect(conn)
conn, r = lsend({ from = "<anyone@example.com>", rcpts = { "<open@rmet.org>" } })
check(accepted(r), "open list: a stranger may post")
mt.disconnect(conn)

-- 5. owners: only owners
conn, r = lsend({ from = "<staff1@example.org>", rcpts = { "<news@rmet.org>" } })
check(refused(r), "owners list: even a member refused")
mt.disconnect(conn)
conn, r = lsend({ from = "<head@rmet.org>", rcpts = { "<news@rmet.org>" } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<staff1@example.org>"),
    "owners list: the owner's post expanded")
mt.disconnect(conn)

-- 6. moderated: accepted, expanded, held; the owners told how to release
conn, r = lsend({ from = "<parent@example.com>", qid = "4HoldQ1",
    rcpts = { "<governors-list@rmet.org>" },
    headers = { { "Subject", "Agenda item" } } })
check(accepted(r), "moderated list: a post accepted")
check(mt.eom_check(conn, MT_QUARANTINE), "moderated: held (smfi_quarantine)")
check(mt.eom_check(conn, MT_RCPTADD, "<governor1@example.org>") and
    mt.eom_check(conn, MT_RCPTDELETE, "<governors-list@rmet.org>"),
    "moderated: expanded before the hold, so a release delivers it")
mt.disconnect(conn)
for _, o in ipairs({ "clerk@rmet.org", "chair@rmet.org" }) do
	local m = mails_to(o, "4HoldQ1")
	check(#m == 1, "owner " .. o .. " told about the held post")
	local s = m[1] or ""
	check(has(s, "postsuper -H 4HoldQ1") and has(s, "postsuper -d 4HoldQ1 hold"),
	    "the notice says how to release or delete it")
	check(has(s, "\r\nAuto-Submitted: auto-generated\r\n") and
	    has(s, "\r\nSubject: Held for moderation: Agenda item (4HoldQ1)\r\n"),
	    "the notice is auto-generated, names subject and queue id")
end
conn, r = lsend({ from = "<governor1@example.org>",
    rcpts = { "<governors-list@rmet.org>" } })
check(accepted(r) and mt.eom_check(conn, MT_QUARANTINE),
    "moderated: a member's post is held too")
mt.disconnect(conn)
conn, r = lsend({ from = "<jane@example.org>", rcpts = { "<partners@rmet.org>" } })
check(accepted(r) and not mt.eom_check(conn, MT_QUARANTINE),
    "a members list holds nothing")
mt.disconnect(conn)

-- 7. an enquiry whose route-to names a list reaches its members
conn, r = lsend({ from = "<school@example.org>", rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Joining the trust" } } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>") and
    mt.eom_check(conn, MT_RCPTADD, "<clerk@rmet.org>"),
    "enquiry routed to a list: its members added")
check(not mt.eom_check(conn, MT_RCPTADD, "<governance@rmet.org>"),
    "the list address itself is not added")
check(ref_of(conn) ~= nil, "and it is still an enquiry with a reference")
mt.disconnect(conn)

-- 8. the members file edited by hand: the next post sees it (mtime cache)
local f = io.open(lists .. "/open.txt", "a")
f:write("reader3@example.org\n")
f:close()
conn, r = lsend({ from = "<anyone@example.com>", rcpts = { "<open@rmet.org>" } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<reader3@example.org>"),
    "a hand edit of the members file is seen at once")
mt.disconnect(conn)

-- 9. one post to two lists: both lists' members, the first list's header
conn, r = lsend({ from = "<jane@example.org>",
    rcpts = { "<partners@rmet.org>", "<open@rmet.org>" },
    headers = { { "Subject", "to both" } } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<bob@example.org>") and
    mt.eom_check(conn, MT_RCPTADD, "<reader2@example.org>"),
    "a post to two lists reaches both lists' members")
check(mt.eom_check(conn, MT_RCPTDELETE, "<partners@rmet.org>") and
    mt.eom_check(conn, MT_RCPTDELETE, "<open@rmet.org>"),
    "both list addresses removed")
check(mt.eom_check(conn, MT_HDRADD, "List-Id",
    "Teaching school partners <partners.rmet.org>") and
    not mt.eom_check(conn, MT_HDRADD, "List-Id", "open <open.rmet.org>"),
    "one List-Id: the first list's")
mt.disconnect(conn)

-- 10. an enquiry copied to an open list: its members may be anyone, so
-- no internal X-Enquiry- header goes in (they would see it)
conn, r = lsend({ from = "<jane@example.org>",
    rcpts = { "<enquiries@rmet.org>", "<open@rmet.org>" },
    headers = { { "Subject", "to the enquiries and a list" } } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<reader1@example.org>") and
    mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "an enquiry copied to a list: routed and expanded")
check(not mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Reference") and
    not mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category"),
    "an enquiry copied to a list: no internal header for its members")
mt.disconnect(conn)

done()
