-- loops: a post carrying the list's own List-Id, or from its bounce
-- address, is not redistributed. the list recipient is removed; a message
-- with no other recipient is discarded
dofile(dir .. "/list_lib.lua")
local partners = { "jane@example.org", "bob@example.org", "carol@example.net" }

-- 1. our List-Id, the list the only recipient: discarded
local conn, r = lsend({ from = "<jane@example.org>", rcpts = { "<partners@rmet.org>" },
    headers = { { "List-Id", "Teaching school partners <partners.rmet.org>" },
	{ "Subject", "[Partners] auto-forwarded back" } } })
check(r == SMFIR_DISCARD, "own List-Id, list only: discarded (" .. tostring(r) .. ")")
check(not added_any(conn, partners), "own List-Id: not expanded")
mt.disconnect(conn)
check(log_has("list partners@rmet.org: loop (its own List-Id), not redistributed"),
    "the loop logged")

-- the List-Id compares without regard to case
conn, r = lsend({ from = "<jane@example.org>", rcpts = { "<partners@rmet.org>" },
    headers = { { "List-Id", "<PARTNERS.rmet.org>" } } })
check(r == SMFIR_DISCARD, "own List-Id in another case: discarded")
mt.disconnect(conn)

-- 2. with another recipient: that one still gets it, the list does not
conn, r = lsend({ from = "<jane@example.org>",
    rcpts = { "<partners@rmet.org>", "<friend@example.net>" },
    headers = { { "List-Id", "Teaching school partners <partners.rmet.org>" } } })
check(accepted(r), "own List-Id with another recipient: accepted")
check(mt.eom_check(conn, MT_RCPTDELETE, "<partners@rmet.org>") and
    not added_any(conn, partners) and
    not mt.eom_check(conn, MT_HDRADD, "List-Id"),
    "the list recipient removed, nothing expanded or added")
mt.disconnect(conn)

-- 3. another list's List-Id is no loop
conn, r = lsend({ from = "<jane@example.org>", rcpts = { "<partners@rmet.org>" },
    headers = { { "List-Id", "<partners.example.com>" } } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<bob@example.org>"),
    "another list's List-Id: redistributed")
mt.disconnect(conn)

-- 4. from the bounce address (an open list, so policy lets it in)
conn, r = lsend({ from = "<open-bounces@rmet.org>", rcpts = { "<open@rmet.org>" } })
check(r == SMFIR_DISCARD and not added_any(conn, { "reader1@example.org", "reader2@example.org" }),
    "from the list's bounce address: not redistributed")
mt.disconnect(conn)
-- and on a members list it is not refused at RCPT either (no bounce storm)
conn, r, at = lsend({ from = "<partners-bounces@rmet.org>",
    rcpts = { "<partners@rmet.org>" } })
check(r == SMFIR_DISCARD and at == "eom",
    "members list, from its bounce address: discarded, not refused")
mt.disconnect(conn)

-- 5. mail to the bounce address itself passes untouched
conn, r, at = lsend({ from = "<>", rcpts = { "<partners-bounces@rmet.org>" },
    headers = { { "Subject", "Undelivered Mail Returned to Sender" } } })
check(r == SMFIR_ACCEPT and at == "data",
    "a bounce to LIST-bounces passes untouched (accepted at DATA)")
mt.disconnect(conn)

done()
