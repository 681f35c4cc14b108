-- issue 15 items 6, 9, 14, 15, 16: the hourly cap on automatic replies
-- (acknowledgements, list answers, owner notices; auto-reply-limit = 3),
-- the MTA's own Authentication-Results, automatic mail however marked,
-- own addresses with a +tag, an owner who is also a route-to address, a
-- post too large for the archive. globals from -D: sock, spool, state,
-- lists, tmp, dir
dofile(dir .. "/list_lib.lua")

-- every spool file (acks and list mail) to addr
local function nspooled(addr, needle)
	return #mails_to(addr, needle)
end

local function count(s, needle)
	local n, i = 0, 1
	while true do
		local j = string.find(s, needle, i, true)
		if j == nil then
			return n
		end
		n = n + 1
		i = j + #needle
	end
end

-- 1. acknowledgements: five enquiries from one sender within the hour
-- (ack-interval = 0s) get three; all five are routed and recorded
local refs = {}
for i = 1, 5 do
	local conn, r = send({ from = "<busy@example.org>",
	    rcpts = { "<enquiries@rmet.org>" },
	    headers = { { "From", "Busy <busy@example.org>" },
		{ "Subject", "Question " .. i } } })
	check(accepted(r) and mt.eom_check(conn, MT_RCPTADD,
	    "<rachelle.stevens@rmet.org>"), "enquiry " .. i ..
	    " from one sender routed")
	refs[i] = ref_of(conn)
	mt.disconnect(conn)
end
check(nspooled("busy@example.org") == 3,
    "auto-reply-limit 3: three acknowledgements of five (" ..
    nspooled("busy@example.org") .. ")")
local log = slurp(tmp .. "/milter.log")
check(count(log, "from=<busy@example.org> category=general " ..
    "routed=rachelle.stevens@rmet.org ack=rate-limited") == 2,
    "the two over the cap logged as ack=rate-limited, routed")
check(refs[5] ~= nil and refs[5] ~= refs[4], "over the cap: still a reference (" ..
    tostring(refs[5]) .. ")")

-- 1b. item 6: an enquiry and two follow-ups on its reference, sent as fast
-- as they go (usually within one second): three acknowledgements, three
-- spool files (the shell script checks every ack=sent has its file)
local conn, r = send({ from = "<follow@example.org>",
    rcpts = { "<enquiries@rmet.org>" }, headers = { { "Subject", "First" } } })
local fref = ref_of(conn)
mt.disconnect(conn)
for i = 1, 2 do
	conn, r = send({ from = "<follow@example.org>",
	    rcpts = { "<enquiries@rmet.org>" },
	    headers = { { "Subject", "Re: [" .. tostring(fref) .. "] more " .. i } } })
	check(accepted(r) and ref_of(conn) == fref, "follow-up " .. i ..
	    " keeps " .. tostring(fref))
	mt.disconnect(conn)
end
check(nspooled("follow@example.org") == 3, "three acknowledgements for " ..
    tostring(fref) .. ", three spool files (" ..
    nspooled("follow@example.org") .. ")")

-- 2. the MTA's own results: spf or dmarc failed, no acknowledgement
local function auth_case(from, name, value, want_ack, what)
	local conn, r = send({ from = "<" .. from .. ">",
	    rcpts = { "<enquiries@rmet.org>" },
	    headers = { { name, value }, { "From", from },
		{ "Subject", "Auth " .. what } } })
	check(accepted(r) and mt.eom_check(conn, MT_RCPTADD,
	    "<rachelle.stevens@rmet.org>"), what .. ": routed")
	mt.disconnect(conn)
	local n = nspooled(from)
	if want_ack then
		check(n == 1, what .. ": acknowledged (" .. n .. ")")
	else
		check(n == 0 and log_has("from=<" .. from .. "> category=general " ..
		    "routed=rachelle.stevens@rmet.org ack=auth-fail"),
		    what .. ": not acknowledged, logged ack=auth-fail (" .. n .. ")")
	end
end
auth_case("forged1@example.org", "Authentication-Results",
    "mx.rmet.org; spf=fail smtp.mailfrom=example.org", false,
    "our authserv-id says spf=fail")
auth_case("forged2@example.org", "Authentication-Results",
    "mx.rmet.org; dkim=none; dmarc=fail (p=none) header.from=example.org",
    false, "our authserv-id says dmarc=fail")
auth_case("forged3@example.org", "Received-SPF",
    "Fail (mailfrom) identity=mailfrom; client-ip=192.0.2.1", false,
    "topmost Received-SPF: Fail")
auth_case("other@example.org", "Authentication-Results",
    "mx.example.com; spf=fail smtp.mailfrom=example.org", true,
    "another host's spf=fail")
auth_case("passed@example.org", "Authentication-Results",
    "mx.rmet.org; spf=pass smtp.mailfrom=example.org", true,
    "our spf=pass")

-- 3. automatic mail however marked; own addresses with a tag
local function noack_case(from, headers, what, why)
	local conn, r = send({ from = "<" .. from .. ">",
	    rcpts = { "<enquiries@rmet.org>" }, headers = headers })
	check(accepted(r), what .. ": accepted")
	mt.disconnect(conn)
	check(nspooled(from) == 0 and log_has("from=<" .. from .. ">") and
	    log_has("ack=" .. why), what .. ": no acknowledgement, ack=" .. why)
end
noack_case("ooo1@example.org", { { "Subject", "Out of office" },
    { "X-Autoreply", "yes" } }, "X-Autoreply", "auto-submitted")
noack_case("ooo2@example.org", { { "Subject", "Away" },
    { "Precedence", "auto_reply" } }, "Precedence: auto_reply", "precedence")
noack_case("ooo3@example.org", { { "Subject", "Away" },
    { "Auto-Submitted", "auto-replied" }, { "Auto-Submitted", "no" } },
    "Auto-Submitted auto-replied, then no", "auto-submitted")
noack_case("rachelle.stevens+gov@rmet.org", { { "Subject", "Tagged" } },
    "own address with a +tag", "own-address")

-- 4. list answers count against the same cap: victim@ gets three
for _, c in ipairs({ { "partners-request", "subscribe" },
    { "partners-request", "unsubscribe" }, { "partners-request", "help" },
    { "mod-request", "subscribe" }, { "mod-request", "help" } }) do
	local conn, r = lsend({ from = "<victim@example.org>",
	    rcpts = { "<" .. c[1] .. "@rmet.org>" },
	    headers = { { "Subject", c[2] } } })
	check(r == SMFIR_DISCARD, c[1] .. " " .. c[2] .. " consumed")
	mt.disconnect(conn)
end
check(nspooled("victim@example.org") == 3,
    "list answers to one address capped at 3 (" ..
    nspooled("victim@example.org") .. ")")
check(log_has("from <victim@example.org> reply=rate-limited"),
    "the ones over the cap logged reply=rate-limited")

-- 5. owner notices: four held posts, each owner told three times
for i = 1, 4 do
	local conn, r = lsend({ from = "<poster@example.org>",
	    rcpts = { "<mod@rmet.org>" },
	    headers = { { "Subject", "Held " .. i } } })
	check(accepted(r), "moderated post " .. i .. " accepted (held)")
	mt.disconnect(conn)
end
for _, o in ipairs({ "clerk@rmet.org", "chair@rmet.org" }) do
	local n = nspooled(o, "Held for moderation")
	check(n == 3, "owner " .. o .. ": 3 notices for 4 held posts (" .. n .. ")")
end
check(log_has("held post not notified to clerk@rmet.org: rate-limited"),
    "the notice over the cap logged")

-- 6. an owner who is also the enquiries' route-to: her command counts
local conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners-request@rmet.org>" },
    headers = { { "Subject", "remove carol@example.net" } } })
check(r == SMFIR_DISCARD, "owner's remove consumed")
mt.disconnect(conn)
check(log_has("request remove carol@example.net from " ..
    "<rachelle.stevens@rmet.org> reply=sent"),
    "owner who is a route-to address: remove asked for confirmation")
check(not log_has("from <rachelle.stevens@rmet.org> ignored: own-address"),
    "not ignored as own-address")
local tok = token_for("rachelle.stevens@rmet.org", "asked to remove")
conn, r = lsend({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<partners-confirm+" .. tostring(tok) .. "@rmet.org>" },
    headers = { { "Subject", "Re: confirm " .. tostring(tok) } } })
mt.disconnect(conn)
check(tok ~= nil and not members("partners.txt")["carol@example.net"],
    "her confirmation removed carol")

-- 7. an auto-reply never confirms a subscription
local function autoconfirm(addr, hdr, what)
	conn, r = lsend({ from = "<" .. addr .. ">",
	    rcpts = { "<partners-request@rmet.org>" },
	    headers = { { "Subject", "subscribe" } } })
	mt.disconnect(conn)
	local t = token_for(addr, "asked to subscribe")
	check(t ~= nil, what .. ": a confirmation request went out")
	conn, r = lsend({ from = "<" .. addr .. ">",
	    rcpts = { "<partners-confirm+" .. tostring(t) .. "@rmet.org>" },
	    headers = { { "Subject", "Re: confirm " .. tostring(t) }, hdr[1],
		hdr[2] } })
	check(r == SMFIR_DISCARD, what .. ": the auto-reply consumed")
	mt.disconnect(conn)
	check(not members("partners.txt")[addr],
	    what .. ": the auto-reply did not subscribe " .. addr)
end
autoconfirm("away1@example.org", { { "X-Autoreply", "yes" } }, "X-Autoreply")
autoconfirm("away2@example.org", { { "Precedence", "auto_reply" } },
    "Precedence: auto_reply")
autoconfirm("away3@example.org", { { "Auto-Submitted", "auto-replied" },
    { "Auto-Submitted", "no" } }, "two Auto-Submitted, the second no")

-- 8. a post over 64 MB to an archived list: delivered, not archived
-- 64,128 bytes: under libmilter's 65,535-byte limit on one chunk
local big = string.rep(string.rep("x", 1000) .. "\r\n", 64)
conn, r = begin_message({ from = "<jane@example.org>" }, "BIG")
check(r == nil and mt.rcptto(conn, "<partners@rmet.org>") == nil and
    mt.getreply(conn) == SMFIR_CONTINUE, "big post: RCPT taken")
pcall(mt.data, conn)
mt.header(conn, "From", "jane@example.org")
mt.header(conn, "Subject", "Huge attachment")
mt.header(conn, "Message-ID", "<big-1@example.org>")
step(mt.eoh, conn)
for i = 1, 1050 do	-- 1050 chunks: 67,334,400 bytes, over 64 MB
	mt.bodystring(conn, big)
end
mt.eom(conn)
r = mt.getreply(conn)
check(accepted(r), "a post over 64 MB to an archived list is accepted (" ..
    tostring(r) .. ")")
check(mt.eom_check(conn, MT_RCPTADD, "<bob@example.org>"),
    "and expanded to the members")
mt.disconnect(conn)
check(log_has("list partners@rmet.org: post over 64 MB (or its header " ..
    "over 1024 KB): delivered, not archived"), "the archive skip logged")
check(not log_has("cannot archive the post"), "no tempfail for the archive")
done()
