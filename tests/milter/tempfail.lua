-- what cannot be done safely is tempfailed, never accepted unaccounted
dofile(dir .. "/lib.lua")

-- 1. the spool cannot be written: tempfail, nothing recorded
os.execute("chmod 000 " .. spool .. "/tmp")
local conn, r = send({ from = "<tf@example.org>",
    rcpts = { "<enquiries@rmet.org>" } })
check(r == SMFIR_TEMPFAIL or r == SMFIR_REPLYCODE,
    "unwritable spool: tempfail (reply " .. tostring(r) .. ")")
mt.disconnect(conn)
os.execute("chmod 750 " .. spool .. "/tmp")
check(not has(slurp(tmp .. "/milter.log"), "from=<tf@example.org>"),
    "unwritable spool: nothing recorded as done")

-- 2. writable again: the same sender is acknowledged (nothing was kept)
conn, r = send({ from = "<tf@example.org>",
    rcpts = { "<enquiries@rmet.org>" } })
local ref = ref_of(conn)
check(accepted(r) and ref ~= nil and spooled(ref) ~= nil,
    "spool back: accepted and acknowledged " .. tostring(ref))
mt.disconnect(conn)

done()
