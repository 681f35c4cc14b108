-- the register: which case a message joins, and what it may not do.
-- every recorded message has a reference, a new case a fresh one; a tag
-- counts only from a party; a reply header joins its case; a follow-up
-- keeps its category and routing; automatic mail opens no case; a copied
-- acknowledgement is no pass; internal headers stay inside the trust.
-- globals from -D: sock, spool, dir, tmp, bin, conf
dofile(dir .. "/lib.lua")

local function isref(r)
	return r ~= nil and string.match(r, "^ENQ%-%d%d%d%d%-%d%d%d%d%d%d$") ~= nil
end
local function ismarker(r)
	return r ~= nil and
	    string.match(r, "^AUTO%-ENQ%-%d%d%d%d%-%d%d%d%d%d%d$") ~= nil
end
local function ack_msgid(ref)
	local a = slurp(spooled(ref) or "/nonexistent")
	return string.match(a, "\r\nMessage%-ID: (<[^\r]*>)\r\n")
end
local uniq = 0
local function msgid(tag)
	uniq = uniq + 1
	return "<" .. tag .. "." .. uniq .. "." .. os.time() .. "." ..
	    math.random(1000000) .. "@example.org>"
end

-- 1. a tag the register never issued, on a fresh sender: a fresh reference
local conn, r = send({ from = "<new1@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Re: [ENQ-2025-000123] a question" },
	{ "Message-ID", msgid("unknown") } } })
local u1 = ref_of(conn)
check(accepted(r) and isref(u1) and u1 ~= "ENQ-2025-000123",
    "unknown tag: a reference of its own: " .. tostring(u1))
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[" .. tostring(u1) ..
    "] Re: [ENQ-2025-000123] a question"), "unknown tag: subject tagged")
mt.disconnect(conn)
local aid = ack_msgid(u1)
check(aid ~= nil and string.sub(aid, 1, #u1 + 2) == "<" .. u1 .. ".",
    "unknown tag: the acknowledgement names it: " .. tostring(aid))
conn, r = send({ from = "<new2@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Re: [ENQ-2026-999999] what" } } })
local u2 = ref_of(conn)
check(isref(u2) and u2 ~= u1 and u2 ~= "ENQ-2026-999999",
    "another unknown tag, another sender: not the previous reference (" ..
    tostring(u1) .. ", " .. tostring(u2) .. ")")
mt.disconnect(conn)

-- 2. a visit enquiry: a case with a category and its own route
local jane_id = msgid("jane")
conn, r = send({ from = "<jane.t@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "From", "Jane <jane.t@example.org>" },
	{ "Subject", "A visit in July" }, { "Message-ID", jane_id } },
    body = "Could we come and visit?\r\n" })
local jref = ref_of(conn)
check(isref(jref) and mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>"),
    "visit enquiry opens case " .. tostring(jref))
mt.disconnect(conn)
local jack = ack_msgid(jref)
check(jack ~= nil, "its acknowledgement: " .. tostring(jack))

-- 3. anyone else naming the tag opens a new case; the claim is noted
conn, r = send({ from = "<mallory@example.net>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Re: [" .. tostring(jref) .. "] change of details" } } })
local mref = ref_of(conn)
check(isref(mref) and mref ~= jref,
    "a stranger's tag does not join the case: " .. tostring(mref))
check(mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category", "general") and
    not mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>"),
    "a stranger gets the case's category and route neither")
mt.disconnect(conn)
local log = slurp(tmp .. "/milter.log")
check(has(log, "ref=" .. tostring(mref) .. " from=<mallory@example.net>") and
    has(log, "kind=new claimed=" .. tostring(jref)),
    "the claimed reference is logged beside the new one")

-- 4. a real reply that lost the tag: In-Reply-To names the
-- acknowledgement; it joins the case, keeps category and routing
conn, r = send({ from = "<jane.t@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Re: A visit in July" },
	{ "In-Reply-To", tostring(jack) },
	{ "References", jane_id .. " " .. tostring(jack) } },
    body = "Thursday suits us.\r\n" })
check(ref_of(conn) == jref, "a reply to the acknowledgement without the " ..
    "tag joins " .. tostring(jref) .. " (got " .. tostring(ref_of(conn)) .. ")")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[" .. tostring(jref) ..
    "] Re: A visit in July"), "and gets the tag back")
check(mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category", "visit") and
    mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>") and
    not mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "the reply keeps category visit and its route")
mt.disconnect(conn)

-- 5. the follow-up by tag from the sender keeps category and routing,
-- though it says nothing of visits
conn, r = send({ from = "<jane.t@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Re: [" .. tostring(jref) .. "] parking" } },
    body = "Where can we park?\r\n" })
check(ref_of(conn) == jref, "the sender's tag joins her case")
check(mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category", "visit") and
    mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>") and
    not mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "a follow-up is not re-categorised (visit, visits@)")
mt.disconnect(conn)

-- 6. automatic mail: routed, marked, no case number taken
conn, r = send({ from = "<ooo@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Out of office" },
	{ "Auto-Submitted", "auto-replied" } } })
local aref = ref_of(conn)
check(ismarker(aref), "automatic mail gets a marker: " .. tostring(aref))
check(mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Automatic", "auto-submitted"),
    "and X-Enquiry-Automatic: auto-submitted")
check(mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>") and
    not mt.eom_check(conn, MT_HDRCHANGE, "Subject"),
    "still routed; the subject is not tagged")
check(spooled(aref) == nil, "automatic mail is not acknowledged")
mt.disconnect(conn)
conn, r = send({ from = "<digest@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Weekly digest" }, { "Precedence", "bulk" },
	{ "X-Enquiry-Automatic", "no" } } })
check(ismarker(ref_of(conn)) and ref_of(conn) ~= aref and
    mt.eom_check(conn, MT_HDRDELETE, "X-Enquiry-Automatic") and
    mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Automatic", "precedence"),
    "a digest: its own marker, a forged X-Enquiry-Automatic replaced")
mt.disconnect(conn)
conn, r = send({ from = "<after.auto@example.org>",
    rcpts = { "<enquiries@rmet.org>" } })
local nref = ref_of(conn)
local function num(x) return tonumber(string.match(x or "", "(%d+)$")) end
check(isref(nref) and num(nref) == num(mref) + 1,
    "the next case follows the last case, automatic mail took none (" ..
    tostring(mref) .. " -> " .. tostring(nref) .. ")")
mt.disconnect(conn)

-- 7. a copied acknowledgement is no pass: jane's own ack, replayed from
-- <> to the enquiry address, is routed and recorded, never acknowledged
local a = slurp(spooled(jref) or "/nonexistent")
conn, r = send({ from = "<>", rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Message-ID", tostring(jack) },
	{ "From", "Rushey Mead Educational Trust <enquiries@rmet.org>" },
	{ "Auto-Submitted", "auto-replied" },
	{ "X-Enquiry-Reference", tostring(jref) },
	{ "X-Enquiry-Category", "visit" },
	{ "Subject", "Re: [" .. tostring(jref) .. "] change of bank details" } } })
local fref = ref_of(conn)
check(accepted(r) and fref ~= nil and fref ~= jref and
    mt.eom_check(conn, MT_HDRDELETE, "X-Enquiry-Reference") and
    mt.eom_check(conn, MT_HDRDELETE, "X-Enquiry-Category"),
    "a replayed acknowledgement: forged headers removed, ref " ..
    tostring(fref))
check(mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>") and
    mt.eom_check(conn, MT_RCPTDELETE, "<enquiries@rmet.org>"),
    "a replayed acknowledgement is routed like inbound mail")
check(spooled(fref) == nil, "and not acknowledged")
mt.disconnect(conn)
log = slurp(tmp .. "/milter.log")
check(has(log, "ref=" .. tostring(fref) .. " from=<> "),
    "and recorded")
check(not has(log, "our own acknowledgement"),
    "nothing passed as our own acknowledgement")

-- 8. governance replies to jane with the enquiry address in copy: recorded
-- against the case, not routed back to her, no internal header outside
conn, r = send({ from = "<visits@rmet.org>",
    rcpts = { "<jane.t@example.org>", "<enquiries@rmet.org>" },
    headers = { { "From", "Visits <visits@rmet.org>" },
	{ "Subject", "Re: [" .. tostring(jref) .. "] A visit in July" },
	{ "In-Reply-To", jane_id },
	{ "X-Enquiry-Reference", "ENQ-2026-000001" } } })
check(accepted(r) and not mt.eom_check(conn, MT_HDRADD,
    "X-Enquiry-Reference") and not mt.eom_check(conn, MT_HDRADD,
    "X-Enquiry-Category") and not mt.eom_check(conn, MT_HDRADD,
    "X-Enquiry-Automatic"),
    "an outside recipient: no internal header added")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Enquiry-Reference"),
    "an outside recipient: a forged internal header still removed")
check(not mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>"),
    "the route-to sender does not get her own mail back")
check(mt.eom_check(conn, MT_RCPTDELETE, "<enquiries@rmet.org>") and
    not mt.eom_check(conn, MT_RCPTDELETE, "<jane.t@example.org>"),
    "jane still gets it; the enquiry address leaves")
mt.disconnect(conn)
log = slurp(tmp .. "/milter.log")
check(has(log, "ref=" .. tostring(jref) ..
    " from=<visits@rmet.org> category=visit routed=- ack=own-address " ..
    "kind=follow-up"), "governance's reply recorded against " ..
    tostring(jref))

-- 8b. the default route answers the visit case by its tag alone: staff of
-- the enquiry are a party of its cases, though it was routed elsewhere
conn, r = send({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "[" .. tostring(jref) .. "] note for the file" } } })
check(ref_of(conn) == jref and
    mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category", "visit") and
    mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>") and
    not mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "a route-to address's tag joins the case: " .. tostring(ref_of(conn)))
mt.disconnect(conn)

-- 9. many orderings of new enquiries, follow-ups, unknown tags, strangers'
-- tags, reply headers, retries and automatic mail: every message gets a
-- reference, every new case a fresh one, every follow-up its case's
local seen = {}
for _, x in ipairs({ u1, u2, jref, mref, aref, nref, fref }) do
	seen[x] = true
end
local bad = {}
local total = 0
for _, seed in ipairs({ 3, 15, 2026 }) do
	math.randomseed(seed)
	local cases, sent = {}, {}
	for i = 1, 30 do
		local op = math.random(7)
		if #cases == 0 then op = 1 end
		local c = cases[math.random(math.max(#cases, 1))]
		local who = "s" .. seed .. "." .. i .. "@example.org"
		local t = { rcpts = { "<enquiries@rmet.org>" }, headers = {} }
		local want, fresh, kind
		if op == 1 or op == 3 or op == 4 then
			t.from = "<" .. who .. ">"
			local subj = "question " .. i
			if op == 3 then
				subj = string.format("Re: [ENQ-%d-%06d] q",
				    math.random(2) == 1 and 2025 or 2026,
				    900000 + math.random(99999))
			elseif op == 4 then
				subj = "Re: [" .. c.ref .. "] not mine"
			end
			t.headers = { { "Subject", subj },
			    { "Message-ID", msgid("o" .. seed) } }
			fresh, kind = true, isref
		elseif op == 2 then
			t.from = "<" .. c.sender .. ">"
			t.headers = { { "Subject", "Re: [" .. c.ref .. "] more" },
			    { "Message-ID", msgid("f" .. seed) } }
			want = c.ref
		elseif op == 5 then
			t = sent[math.random(#sent)]
			want = t.got
		elseif op == 6 then
			t.from = "<" .. c.sender .. ">"
			t.headers = { { "Subject", "Re: untagged" },
			    { "Message-ID", msgid("r" .. seed) },
			    { "In-Reply-To", c.msgid } }
			want = c.ref
		else
			t.from = "<" .. who .. ">"
			t.headers = { { "Subject", "Automatic reply" },
			    { "Message-ID", msgid("a" .. seed) },
			    { "Auto-Submitted", "auto-replied" } }
			fresh, kind = true, ismarker
		end
		local cn, rr = send(t)
		local got = ref_of(cn)
		mt.disconnect(cn)
		total = total + 1
		local why = nil
		if not accepted(rr) or got == nil or got == "" then
			why = "no reference"
		elseif fresh and (seen[got] or not kind(got)) then
			why = "not a fresh reference"
		elseif want ~= nil and got ~= want then
			why = "wanted " .. want
		end
		if why then
			bad[#bad + 1] = "seed " .. seed .. " step " .. i ..
			    " op " .. op .. ": " .. tostring(got) .. ": " .. why
		end
		if got then
			seen[got] = true
		end
		if op ~= 5 then
			t.got = got
			sent[#sent + 1] = t
		end
		if (op == 1 or op == 3 or op == 4) and got then
			cases[#cases + 1] = { ref = got, sender = who,
			    msgid = t.headers[2][2] }
		end
	end
end
check(#bad == 0, total .. " messages in three orderings: every one a " ..
    "reference, new cases fresh, follow-ups and retries their case's" ..
    (#bad > 0 and (": " .. table.concat(bad, "; ")) or ""))

-- the register agrees: every row has a reference
local p = io.popen(bin .. " -c " .. conf .. " -l 100000")
local rows, empty = 0, 0
for line in p:lines() do
	if not string.match(line, "^REFERENCE ") then
		rows = rows + 1
		if not string.match(line, "^[A-Z][A-Z0-9]*%-") then
			empty = empty + 1
		end
	end
end
p:close()
check(rows > total and empty == 0, "-l: " .. rows ..
    " recorded messages, none without a reference")

done()
