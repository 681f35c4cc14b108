-- SIGUSR1 reloads the configuration; a broken one is refused and the old
-- one stays; libmilter keeps SIGHUP/SIGTERM for stopping
dofile(dir .. "/lib.lua")

local function usr1()
	os.execute("kill -USR1 " .. pid)
	mt.sleep(0.5)
end

local conn, r, at = send({ from = "<jane@example.org>",
    rcpts = { "<governors@rmet.org>" } })
check(r == SMFIR_ACCEPT and at == "data", "before reload: not an enquiry address")
mt.disconnect(conn)

-- 1. a new enquiry block, live after SIGUSR1
os.execute("cat " .. conf .. " " .. tmp .. "/extra.conf > " .. tmp ..
    "/new.conf && cp " .. tmp .. "/new.conf " .. conf)
usr1()
conn, r = send({ from = "<jane2@example.org>",
    rcpts = { "<governors@rmet.org>" } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<clerk@rmet.org>"),
    "after reload: the new enquiry address is routed")
check(string.match(tostring(ref_of(conn)), "^GOV%-") ~= nil,
    "after reload: its own reference prefix")
mt.disconnect(conn)
check(has(slurp(tmp .. "/milter.log"), "configuration reloaded"),
    "reload logged")

-- 2. a broken file is refused, with file:line, and the old config stays
os.execute("cp " .. conf .. " " .. tmp .. "/good.conf && " ..
    "echo 'no-such-key = 1' >> " .. conf)
usr1()
local log = slurp(tmp .. "/milter.log")
check(has(log, "reload failed, the old configuration stays: " .. conf .. ":"),
    "broken config refused with file:line")
conn, r = send({ from = "<jane3@example.org>",
    rcpts = { "<governors@rmet.org>" } })
check(accepted(r) and mt.eom_check(conn, MT_RCPTADD, "<clerk@rmet.org>"),
    "after a refused reload the last good config is in force")
mt.disconnect(conn)
os.execute("cp " .. tmp .. "/good.conf " .. conf)

-- 3. a broken template is refused the same way
os.execute("sed 's|ack-template *=.*ack.txt\"|ack-template = \"" ..
    tmp .. "/broken.txt\"|' " .. tmp .. "/good.conf > " .. conf ..
    " && printf 'Dear {{nmae}}\\n' > " .. tmp .. "/broken.txt")
usr1()
log = slurp(tmp .. "/milter.log")
check(has(log, tmp .. "/broken.txt:1: unknown placeholder"),
    "broken template refused with file:line")
conn, r = send({ from = "<jane4@example.org>",
    rcpts = { "<enquiries@rmet.org>" } })
check(accepted(r) and spooled(ref_of(conn)) ~= nil,
    "acknowledgements still go out with the good template")
mt.disconnect(conn)
os.execute("cp " .. tmp .. "/good.conf " .. conf)

done()
