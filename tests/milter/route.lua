-- an enquiry is routed (recipients added and removed, headers added, subject
-- tagged) and an acknowledgement is spooled, following rfc 3834
dofile(dir .. "/lib.lua")

-- 1. keyword routing: "visit" goes to visits@
local conn, r = send({ from = "<jane@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "From", "Jane Smith <jane@example.org>" },
	{ "Subject", "Visit in June" },
	{ "Message-ID", "<visit-1@example.org>" },
	{ "References", "<earlier@example.org>" },
	{ "X-Enquiry-Reference", "ENQ-2026-999999" } },
    body = "Could we visit the academy in June?\r\n" })
check(accepted(r), "enquiry accepted")
local ref = ref_of(conn)
check(ref ~= nil and string.match(ref, "^ENQ%-%d%d%d%d%-%d%d%d%d%d%d$"),
    "X-Enquiry-Reference added: " .. tostring(ref))
check(mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category", "visit"),
    "X-Enquiry-Category visit")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Enquiry-Reference"),
    "forged X-Enquiry-Reference removed")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[" .. tostring(ref) ..
    "] Visit in June"), "subject tagged")
check(mt.eom_check(conn, MT_RCPTADD, "<visits@rmet.org>"),
    "routed to the visit category")
check(not mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "category route replaces the default")
check(mt.eom_check(conn, MT_RCPTDELETE, "<enquiries@rmet.org>"),
    "enquiries address removed")
mt.disconnect(conn)

local f = spooled(ref)
check(f ~= nil, "acknowledgement spooled: " .. tostring(f))
local a = slurp(f or "/nonexistent")
check(has(a, "rcpt jane@example.org\n"), "ack goes to the return path")
check(has(a, "\r\nAuto-Submitted: auto-replied\r\n"), "Auto-Submitted")
check(has(a, "\r\nIn-Reply-To: <visit-1@example.org>\r\n"), "In-Reply-To")
check(has(a, "\r\nReferences: <earlier@example.org> <visit-1@example.org>\r\n"),
    "References")
check(has(a, "\r\nSubject: Re: [" .. tostring(ref) .. "] Visit in June\r\n"),
    "Subject: Re: with the reference")
check(has(a, "From: Rushey Mead Educational Trust <enquiries@rmet.org>\r\n"),
    "From is ack-from")
check(has(a, "\r\nTo: Jane Smith <jane@example.org>\r\n"), "To the sender")
check(has(a, "\r\nMessage-ID: <" .. tostring(ref) .. "."), "Message-ID")
check(string.find(a, "\r\nDate: %a%a%a, %d+ %a%a%a %d%d%d%d %d%d:%d%d:%d%d %+0000\r\n") ~= nil,
    "Date")
check(has(a, "\r\nContent-Type: text/plain; charset=utf-8\r\n"), "MIME type")
check(has(a, "Dear Jane Smith,"), "greets by name")
check(has(a, tostring(ref)) and has(a, "gemini://localhost/enquiries.gmi"),
    "text has the reference and the capsule link")

-- 2. no keyword: the default route, category general; the subject has no
-- Subject field at all. someone outside is in copy: every recipient sees
-- the same header, so no internal header goes in; the tag does
conn, r = send({ from = "<bob@example.org>",
    rcpts = { "<Enquiries@RMET.org>", "<someone@example.net>" },
    headers = { { "From", "bob@example.org" } } })
check(accepted(r), "second enquiry accepted")
local ref2 = string.match(mt.getheader(conn, "Subject", 0) or "",
    "^%[(.*)%]$")
check(ref2 ~= nil and ref2 ~= ref, "a new reference: " .. tostring(ref2))
check(mt.eom_check(conn, MT_HDRADD, "Subject", "[" .. tostring(ref2) .. "]"),
    "a Subject is added when there was none")
check(not mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Category") and
    not mt.eom_check(conn, MT_HDRADD, "X-Enquiry-Reference"),
    "an outside recipient in copy: no internal header added")
check(mt.eom_check(conn, MT_RCPTADD, "<rachelle.stevens@rmet.org>"),
    "routed to the default route-to")
check(mt.eom_check(conn, MT_RCPTDELETE, "<Enquiries@RMET.org>"),
    "the enquiries address is removed as the MTA gave it")
check(spooled(ref2) ~= nil, "second sender acknowledged")
mt.disconnect(conn)

-- 3. rfc 2047 both ways, and nothing injected through name or subject
conn, r = send({ from = "<renee@example.fr>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "From", "=?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?= <renee@example.fr>" },
	{ "Subject", "=?UTF-8?Q?Caf=C3=A9=0D=0ABcc:_victim@example.org?=" } } })
local ref3 = ref_of(conn)
check(accepted(r) and ref3 ~= nil, "encoded enquiry accepted")
local a3 = slurp(spooled(ref3) or "/nonexistent")
check(not has(a3, "\nBcc:"), "no header injected through the subject")
check(has(a3, "\r\nTo: =?UTF-8?B?"), "display name encoded")
check(has(a3, "\r\nSubject: =?UTF-8?B?"), "subject encoded")
check(has(a3, "Content-Transfer-Encoding: quoted-printable\r\n") and
    has(a3, "Ren=C3=A9e"), "8-bit body as quoted-printable")
mt.disconnect(conn)

-- 4. a follow-up with the tag keeps its reference; the tag is not doubled
conn, r = send({ from = "<jane@example.org>",
    rcpts = { "<enquiries@rmet.org>" },
    headers = { { "Subject", "Re: [" .. tostring(ref) .. "] Visit in June" } } })
check(accepted(r), "follow-up accepted")
check(ref_of(conn) == ref, "follow-up keeps reference " .. tostring(ref))
check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "tag added only once")
mt.disconnect(conn)

-- 5. one log line per decision, with the queue id
conn, r = send({ from = "<carol@example.org>", qid = "4XyzQID",
    rcpts = { "<enquiries@rmet.org>" } })
check(accepted(r), "enquiry accepted for the log check")
local ref5 = ref_of(conn)
mt.disconnect(conn)
local log = slurp(tmp .. "/milter.log")
check(has(log, "4XyzQID: enquiry enquiries@rmet.org ref=" .. tostring(ref5) ..
    " from=<carol@example.org> category=general " ..
    "routed=rachelle.stevens@rmet.org ack=sent"),
    "decision logged on one line with the queue id")

done()
