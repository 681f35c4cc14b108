-- every case where no acknowledgement may go out: still routed and
-- recorded, never acknowledged
dofile(dir .. "/lib.lua")

local cases = {
	{ "null return path", "<>", {} },
	{ "MAILER-DAEMON", "<MAILER-DAEMON@example.org>", {} },
	{ "postmaster", "<postmaster@example.org>", {} },
	{ "owner- address", "<owner-parents@example.org>", {} },
	{ "-request address", "<parents-request@example.org>", {} },
	{ "-bounces address", "<parents-bounces+x=y@example.org>", {} },
	{ "noreply address", "<noreply@example.org>", {} },
	{ "no-reply address", "<no-reply@example.org>", {} },
	{ "noreply From", "<n1@example.org>",
	    { { "From", "Robot <donotreply@example.org>" } } },
	{ "Auto-Submitted: auto-replied", "<n2@example.org>",
	    { { "Auto-Submitted", "auto-replied" } } },
	{ "Auto-Submitted: auto-generated", "<n3@example.org>",
	    { { "Auto-Submitted", "auto-generated" } } },
	{ "Precedence: bulk", "<n4@example.org>",
	    { { "Precedence", "bulk" } } },
	{ "Precedence: list", "<n5@example.org>",
	    { { "Precedence", "list" } } },
	{ "Precedence: junk", "<n6@example.org>",
	    { { "Precedence", "junk" } } },
	{ "List-Id", "<n7@example.org>",
	    { { "List-Id", "<parents.example.org>" } } },
	{ "List-Unsubscribe", "<n8@example.org>",
	    { { "List-Unsubscribe", "<mailto:leave@example.org>" } } },
	{ "X-Auto-Response-Suppress: All", "<n9@example.org>",
	    { { "X-Auto-Response-Suppress", "All" } } },
	{ "X-Auto-Response-Suppress: AutoReply", "<n10@example.org>",
	    { { "X-Auto-Response-Suppress", "DR, AutoReply" } } },
	{ "multipart/report", "<n11@example.org>",
	    { { "Content-Type", "multipart/report; report-type=delivery-status; boundary=x" } } },
	{ "our own route-to address", "<rachelle.stevens@rmet.org>", {} },
	{ "our own ack-from in From", "<n12@example.org>",
	    { { "From", "Trust <enquiries@rmet.org>" } } },
}

for _, c in ipairs(cases) do
	local conn, r = send({ from = c[2], rcpts = { "<enquiries@rmet.org>" },
	    headers = c[3] })
	local ref = ref_of(conn)
	-- a route-to address is not routed its own mail back
	local back = c[2] == "<rachelle.stevens@rmet.org>"
	check(accepted(r) and ref ~= nil and
	    mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>") ~=
	    back, c[1] .. ": routed with " .. tostring(ref))
	check(ref ~= nil and spooled(ref) == nil, c[1] .. ": no acknowledgement")
	mt.disconnect(conn)
end

-- an MTA that sends neither MAIL nor the {mail_addr} macro: the sender
-- is unknown, so the enquiry is routed and recorded but not acknowledged
do
	local conn, r = send({ from = "<unknown@example.org>",
	    rcpts = { "<enquiries@rmet.org>" }, no_mail_addr = true })
	local ref = ref_of(conn)
	check(accepted(r) and ref ~= nil and
	    mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
	    "no envelope sender known: routed with " .. tostring(ref))
	check(ref ~= nil and spooled(ref) == nil,
	    "no envelope sender known: no acknowledgement")
	mt.disconnect(conn)
end

-- rfc 3834: an X-Loop naming one of our addresses is a loop: routed,
-- recorded as automatic mail (an AUTO- marker), never acknowledged
for _, x in ipairs({ "enquiries@rmet.org", "Enquiries+x@rmet.org",
    "Trust <admissions@rmet.org>" }) do
	local conn, r = send({ from = "<loop" .. _ .. "@example.org>",
	    rcpts = { "<enquiries@rmet.org>" },
	    headers = { { "X-Loop", x } } })
	local ref = ref_of(conn)
	check(accepted(r) and ref ~= nil and
	    string.sub(ref, 1, 5) == "AUTO-" and
	    mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
	    "X-Loop: " .. x .. ": routed as automatic mail " .. tostring(ref))
	check(ref ~= nil and spooled(ref) == nil,
	    "X-Loop: " .. x .. ": no acknowledgement")
	mt.disconnect(conn)
end

-- Auto-Submitted: no is a person: acknowledged, and so is someone else's
-- X-Loop; the acknowledgement carries our own X-Loop
local conn, r = send({ from = "<person@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Auto-Submitted", "no" },
    { "X-Loop", "helpdesk@example.org" } } })
local ref = ref_of(conn)
check(ref ~= nil and spooled(ref) ~= nil, "Auto-Submitted: no is acknowledged")
check(has(slurp(spooled(ref) or ""), "\r\nX-Loop: enquiries@rmet.org\r\n"),
    "the acknowledgement carries X-Loop: enquiries@rmet.org")
mt.disconnect(conn)

-- within ack-interval: routed, not acknowledged again
conn, r = send({ from = "<person@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "a second question" } } })
local ref2 = ref_of(conn)
check(accepted(r) and ref2 ~= nil and ref2 ~= ref,
    "second enquiry within the interval routed: " .. tostring(ref2))
check(ref2 ~= nil and spooled(ref2) == nil,
    "second enquiry within the interval not acknowledged")
mt.disconnect(conn)

-- the mta retries a message it already gave us: same reference, no ack
local msgid = "<retry." .. os.time() .. "@example.org>"
conn, r = send({ from = "<retry@example.org>",
    rcpts = { "<enquiries@rmet.org>" }, headers = { { "Message-ID", msgid } } })
local r1 = ref_of(conn)
mt.disconnect(conn)
local f1 = spooled(r1)
conn, r = send({ from = "<retry@example.org>",
    rcpts = { "<enquiries@rmet.org>" }, headers = { { "Message-ID", msgid } } })
local r2 = ref_of(conn)
mt.disconnect(conn)
check(accepted(r) and r1 ~= nil and r1 == r2,
    "a retried message keeps its reference " .. tostring(r1))
check(f1 ~= nil and spooled(r2) == f1, "and is acknowledged once")

done()
