-- mail that is not an enquiry passes untouched; so do our own
-- acknowledgements; keep-original keeps the enquiry address
dofile(dir .. "/lib.lua")

local conn, r, at = send({ from = "<jane@example.org>",
    rcpts = { "<someone@example.net>", "<other@rmet.org>" },
    headers = { { "Subject", "not an enquiry" } } })
check(r == SMFIR_ACCEPT and at == "data",
    "non-enquiry mail accepted at DATA, before its header")
mt.disconnect(conn)

-- a staff reply (rachelle is a route-to address) to a member of the
-- public, the enquiries address not copied: read to its end, since it may
-- answer a case, and changed in nothing, not even the internal header or
-- the tag it carries
conn, r, at = send({ from = "<rachelle.stevens@rmet.org>",
    rcpts = { "<jane@example.org>" },
    headers = { { "From", "Rachelle Stevens <rachelle.stevens@rmet.org>" },
	{ "X-Enquiry-Reference", "ENQ-2026-000001" },
	{ "Subject", "Re: [ENQ-2026-000001] Visit" } } })
check(accepted(r) and at == "eom",
    "staff mail to someone outside is read to its end")
check(not mt.eom_check(conn, MT_HDRADD) and
    not mt.eom_check(conn, MT_HDRINSERT) and
    not mt.eom_check(conn, MT_HDRCHANGE) and
    not mt.eom_check(conn, MT_HDRDELETE) and
    not mt.eom_check(conn, MT_RCPTDELETE, "<jane@example.org>") and
    not mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>") and
    not mt.eom_check(conn, MT_BODYCHANGE) and
    not mt.eom_check(conn, MT_QUARANTINE),
    "and changed in nothing: header, recipients, body, quarantine")
mt.disconnect(conn)

-- the same from a stranger, its From: claiming staff: accepted at DATA
conn, r, at = send({ from = "<mallory@example.net>",
    rcpts = { "<jane@example.org>" },
    headers = { { "From", "Rachelle Stevens <rachelle.stevens@rmet.org>" },
	{ "Subject", "Re: [ENQ-2026-000001] Visit" } } })
check(r == SMFIR_ACCEPT and at == "data",
    "a stranger's envelope: accepted at DATA, before its header")
mt.disconnect(conn)

-- an acknowledgement of ours on its way out
conn, r, at = send({ from = "<>", rcpts = { "<jane@example.org>" },
    headers = { { "From", "Rushey Mead Educational Trust <enquiries@rmet.org>" },
	{ "Auto-Submitted", "auto-replied" },
	{ "X-Enquiry-Reference", "ENQ-2026-000001" },
	{ "Subject", "Re: [ENQ-2026-000001] Visit" } } })
check(r == SMFIR_ACCEPT and at == "data", "our own acknowledgement untouched")
mt.disconnect(conn)

-- what an outsider can write is no acknowledgement of ours: only the
-- key's mac in the Message-ID says so (tests/unit/test_ackmac.c). the
-- look of one, from <> to an enquiry address, is inbound mail: routed,
-- recorded, not acknowledged, its internal headers replaced
conn, r, at = send({ from = "<>", rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Auto-Submitted", "auto-replied" },
	{ "X-Enquiry-Reference", "ENQ-2026-000001" },
	{ "Message-ID", "<ENQ-2026-000001.01234567." ..
	    "0123456789abcdef0123@milter.test>" } } })
local fref = ref_of(conn)
check(accepted(r) and at == "eom" and fref ~= nil and
    fref ~= "ENQ-2026-000001" and
    mt.eom_check(conn, MT_HDRDELETE, "X-Enquiry-Reference") and
    mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "a forged acknowledgement to an enquiry address is routed as " ..
    tostring(fref) .. ", its reference header replaced")
check(spooled(fref) == nil, "and not acknowledged")
mt.disconnect(conn)

-- keep-original: the address stays, routes are added, own prefix
conn, r = send({ from = "<parent@example.org>",
    rcpts = { "<admissions@rmet.org>" },
    headers = { { "Subject", "Year 7 place" } } })
local ref = ref_of(conn)
check(accepted(r) and ref ~= nil and string.match(ref, "^ADM%-") ~= nil,
    "second enquiry block, own prefix: " .. tostring(ref))
check(mt.eom_check(conn, MT_RCPTADD, "<admissions-team@rmet.org>"),
    "routed to its own team")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<admissions@rmet.org>"),
    "keep-original keeps the enquiry address")
mt.disconnect(conn)

done()
