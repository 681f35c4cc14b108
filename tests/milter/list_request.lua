-- LIST-request: help, subscribe and unsubscribe with confirmation tokens
-- (single use, expiring), the owners' add and remove, rfc 3834 and rate
-- limits, and the request itself consumed
dofile(dir .. "/list_lib.lua")

-- 1. help: answered, the request consumed (discarded when alone)
local conn, r = lsend({ from = "<newcomer@example.org>",
    rcpts = { "<partners-request@rmet.org>" },
    headers = { { "Subject", "help" }, { "Message-ID", "<help-1@example.org>" } } })
check(r == SMFIR_DISCARD, "help: the request consumed (" .. tostring(r) .. ")")
mt.disconnect(conn)
local m = mails_to("newcomer@example.org", "Help for partners@rmet.org")
check(#m == 1, "help: answered")
local s = m[1] or ""
check(has(s, "\n\nFrom: Teaching school partners <partners-request@rmet.org>\r\n"),
    "help: from LIST-request")
check(has(s, "\r\nAuto-Submitted: auto-replied\r\n") and
    has(s, "\r\nIn-Reply-To: <help-1@example.org>\r\n"),
    "help: rfc 3834 (Auto-Submitted, In-Reply-To)")
check(has(s, "subscribe") and has(s, "Questions: write to rachelle.stevens@rmet.org."),
    "help: commands and the configured text")
-- the spool file says whose mail it is: the list's, by its address
check(string.sub(s, 1, #"rcpt newcomer@example.org\nref partners@rmet.org\n\n") ==
    "rcpt newcomer@example.org\nref partners@rmet.org\n\n",
    "help: spooled under the list's address (ref partners@rmet.org)")

-- rate limit: a second help within reply-interval gets nothing
conn, r = lsend({ from = "<newcomer@example.org>",
    rcpts = { "<partners-request@rmet.org>" }, headers = { { "Subject", "help" } } })
check(r == SMFIR_DISCARD, "second help consumed")
mt.disconnect(conn)
check(#mails_to("newcomer@example.org", "Help for") == 1,
    "second help within the interval: not answered (rate limit)")
check(log_has("request help from <newcomer@example.org> reply=rate-limited"),
    "the rate limit logged")

-- no command at all: the help text
conn, r = lsend({ from = "<confused@example.org>",
    rcpts = { "<partners-request@rmet.org>" },
    headers = { { "Subject", "Question" } }, body = "How do I join?\r\n" })
check(r == SMFIR_DISCARD and #mails_to("confused@example.org", "Help for") == 1,
    "no command: answered with the help text")
mt.disconnect(conn)

-- rfc 3834: automatic mail gets no answer and does nothing
conn, r = lsend({ from = "<vacation@example.org>",
    rcpts = { "<partners-request@rmet.org>" },
    headers = { { "Subject", "subscribe" }, { "Auto-Submitted", "auto-replied" } } })
check(r == SMFIR_DISCARD and #mails_to("vacation@example.org") == 0,
    "auto-submitted request: consumed, no answer")
mt.disconnect(conn)
-- an X-Loop naming the list (or its request address) is a loop: the
-- same, however human the rest looks
for _, x in ipairs({ "partners@rmet.org", "partners-request@rmet.org" }) do
	local who = "looped" .. _ .. "@example.org"
	conn, r = lsend({ from = "<" .. who .. ">",
	    rcpts = { "<partners-request@rmet.org>" },
	    headers = { { "Subject", "help" }, { "X-Loop", x } } })
	check(r == SMFIR_DISCARD and #mails_to(who) == 0,
	    "X-Loop: " .. x .. " on a request: consumed, no answer")
	mt.disconnect(conn)
end

-- a request beside another recipient: only the request address removed
conn, r = lsend({ from = "<both@example.org>",
    rcpts = { "<partners-request@rmet.org>", "<friend@example.net>" },
    headers = { { "Subject", "help" } } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTDELETE, "<partners-request@rmet.org>") and
    not mt.eom_check(conn, MT_RCPTDELETE, "<friend@example.net>"),
    "request beside another recipient: only the request removed")
mt.disconnect(conn)

-- 2. subscribe: a confirmation with a token; the members file unchanged
conn, r = lsend({ from = "<dan@example.org>",
    rcpts = { "<partners-request@rmet.org>" }, headers = { { "Subject", "subscribe" } } })
check(r == SMFIR_DISCARD, "subscribe consumed")
mt.disconnect(conn)
local tok = token_for("dan@example.org", "asked to subscribe")
check(tok ~= nil and #tok == 32, "subscribe: a confirmation with a token " .. tostring(tok))
s = mails_to("dan@example.org", "asked to subscribe")[1] or ""
check(has(s, "\r\nReply-To: <partners-confirm+" .. tostring(tok) .. "@rmet.org>\r\n"),
    "the confirmation's Reply-To is LIST-confirm+TOKEN")
check(not members("partners.txt")["dan@example.org"], "not a member before confirming")

-- confirmed by mail to LIST-confirm+TOKEN
conn, r = lsend({ from = "<dan@example.org>",
    rcpts = { "<partners-confirm+" .. tostring(tok) .. "@rmet.org>" },
    headers = { { "Subject", "Re: confirm " .. tostring(tok) } } })
check(r == SMFIR_DISCARD, "the confirmation consumed")
mt.disconnect(conn)
check(members("partners.txt")["dan@example.org"], "confirmed: dan is a member")
check(has(slurp(lists .. "/partners.txt"), "# teaching school partners\n") and
    has(slurp(lists .. "/partners.txt"), "Bob@Example.ORG     # head of science\n"),
    "the members file keeps its comments and lines")
check(#mails_to("dan@example.org", "Welcome") == 1, "a welcome mail")
check(log_has("list partners@rmet.org: subscribe <dan@example.org> confirmed by <dan@example.org>: members file rewritten"),
    "the change logged")
-- the new member may post at once
conn, r = lsend({ from = "<dan@example.org>", rcpts = { "<partners@rmet.org>" } })
check(accepted(r), "the new member's post accepted")
mt.disconnect(conn)

-- a token is single use
conn, r = lsend({ from = "<dan@example.org>",
    rcpts = { "<partners-confirm+" .. tostring(tok) .. "@rmet.org>" } })
mt.disconnect(conn)
check(#mails_to("dan@example.org", "is unknown, used or expired") == 1,
    "a used token is refused, and the sender told")

-- 3. unsubscribe, confirmed by replying to LIST-request with the subject
conn, r = lsend({ from = "<dan@example.org>",
    rcpts = { "<partners-request@rmet.org>" }, headers = { { "Subject", "unsubscribe" } } })
mt.disconnect(conn)
local utok = token_for("dan@example.org", "asked to unsubscribe")
check(utok ~= nil and utok ~= tok, "unsubscribe: a new token")
conn, r = lsend({ from = "<dan@example.org>",
    rcpts = { "<partners-request@rmet.org>" },
    headers = { { "Subject", "Re: confirm " .. tostring(utok) } } })
check(r == SMFIR_DISCARD, "confirmation by reply consumed")
mt.disconnect(conn)
check(not members("partners.txt")["dan@example.org"], "unsubscribed: dan is gone")

-- unsubscribe from a stranger: the same answer, nothing revealed
conn, r = lsend({ from = "<never@example.org>",
    rcpts = { "<partners-request@rmet.org>" }, headers = { { "Subject", "unsubscribe" } } })
mt.disconnect(conn)
local a1 = mails_to("never@example.org", "asked to unsubscribe")[1] or ""
local a2 = mails_to("dan@example.org", "asked to unsubscribe")[1] or ""
local function body_of(x, who)
	x = string.gsub(x, "\r\n\r\n.*$", "", 1) -- drop nothing: compare bodies
	return x
end
local b1 = string.match(a1, "\r\n\r\n(.*)$") or "1"
local b2 = string.match(a2, "\r\n\r\n(.*)$") or "2"
b1 = string.gsub(string.gsub(b1, "never@example.org", "X"), "%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x", "T")
b2 = string.gsub(string.gsub(b2, "dan@example.org", "X"), "%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x", "T")
check(a1 ~= "" and b1 == b2,
    "unsubscribe answers a stranger exactly as a member (membership not revealed)")

-- 4. token expiry (cohort's tokens live 2 s)
conn, r = lsend({ from = "<late@example.org>",
    rcpts = { "<cohort-request@rmet.org>" }, headers = { { "Subject", "subscribe" } } })
mt.disconnect(conn)
local etok = token_for("late@example.org", "asked to subscribe")
check(etok ~= nil and has(mails_to("late@example.org", "asked to subscribe")[1] or "",
    "valid for 2 seconds"), "cohort: a token valid for 2 seconds")
os.execute("sleep 3")
conn, r = lsend({ from = "<late@example.org>",
    rcpts = { "<cohort-confirm+" .. tostring(etok) .. "@rmet.org>" } })
mt.disconnect(conn)
check(not members("cohort.txt")["late@example.org"], "an expired token does nothing")
check(#mails_to("late@example.org", "is unknown, used or expired") == 1,
    "an expired token: the sender told")
-- a token of one list is no good on another
conn, r = lsend({ from = "<x@example.org>",
    rcpts = { "<partners-request@rmet.org>" }, headers = { { "Subject", "subscribe" } } })
mt.disconnect(conn)
local xtok = token_for("x@example.org", "asked to subscribe")
conn, r = lsend({ from = "<x@example.org>",
    rcpts = { "<cohort-confirm+" .. tostring(xtok) .. "@rmet.org>" } })
mt.disconnect(conn)
check(not members("cohort.txt")["x@example.org"] and
    not members("partners.txt")["x@example.org"], "a token works for its own list only")

-- 5. closed lists take no subscriptions, but unsubscribe still works
conn, r = lsend({ from = "<keen@example.org>",
    rcpts = { "<news-request@rmet.org>" }, headers = { { "Subject", "subscribe" } } })
mt.disconnect(conn)
check(#mails_to("keen@example.org", "does not take subscriptions") == 1 and
    token_for("keen@example.org") == nil, "closed list: subscribe refused, no token")
conn, r = lsend({ from = "<staff1@example.org>",
    rcpts = { "<news-request@rmet.org>" }, headers = { { "Subject", "unsubscribe" } } })
mt.disconnect(conn)
check(token_for("staff1@example.org", "asked to unsubscribe") ~= nil,
    "closed list: unsubscribe still offered")

-- 6. owners: add and remove, confirmed by mail to the owner's address
conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners-request@rmet.org>" },
    headers = { { "Subject", "add <New.Head@Example.org>" } } })
mt.disconnect(conn)
local otok = token_for("rachelle.stevens@rmet.org", "asked to add")
check(otok ~= nil, "owner's add: a confirmation to the owner")
check(not members("partners.txt")["new.head@example.org"], "nothing added yet")
conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners-confirm+" .. tostring(otok) .. "@rmet.org>" } })
mt.disconnect(conn)
check(members("partners.txt")["new.head@example.org"], "owner's add confirmed: added")
check(#mails_to("rachelle.stevens@rmet.org", "Done: new.head@example.org was added") == 1,
    "the owner told it is done")
conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners-request@rmet.org>" }, body = "remove carol@example.net\r\n" })
mt.disconnect(conn)
otok = token_for("rachelle.stevens@rmet.org", "asked to remove")
conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners-confirm+" .. tostring(otok) .. "@rmet.org>" } })
mt.disconnect(conn)
check(not members("partners.txt")["carol@example.net"],
    "owner's remove (command in the body) confirmed: removed")
-- a stranger's add gets the help text and changes nothing
conn, r = lsend({ from = "<mallory@example.com>",
    rcpts = { "<partners-request@rmet.org>" }, headers = { { "Subject", "add mallory@example.com" } } })
mt.disconnect(conn)
check(token_for("mallory@example.com") == nil and
    #mails_to("mallory@example.com", "Help for") == 1 and
    not members("partners.txt")["mallory@example.com"],
    "a stranger's add: help text, no token, no change")

done()
