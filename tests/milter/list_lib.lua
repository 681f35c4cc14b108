-- helpers for the list scripts, on top of lib.lua; globals from -D: sock,
-- spool, state, lists, tmp, dir
dofile(dir .. "/lib.lua")

-- one message with a reply checked at every RCPT (lists refuse there).
-- returns the connection, the last reply, the stage it stopped at
-- ("mail", "rcpt", "data", "eom") and the reply to each recipient
function lsend(t)
	local conn, r = begin_message(t, "LQID")
	if r ~= nil then
		return conn, r, "mail", {}
	end
	local replies, taken = {}, 0
	for _, a in ipairs(t.rcpts) do
		if mt.rcptto(conn, a) ~= nil then
			error("mt.rcptto failed")
		end
		replies[a] = mt.getreply(conn)
		if replies[a] == SMFIR_CONTINUE or replies[a] == SMFIR_ACCEPT then
			taken = taken + 1
		end
	end
	if taken == 0 then
		-- the MTA would end the transaction here
		return conn, replies[t.rcpts[#t.rcpts]], "rcpt", replies
	end
	-- DATA may have been negotiated away
	if pcall(mt.data, conn) then
		r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE and r ~= nil then
			return conn, r, "data", replies
		end
	end
	return conn, end_message(conn, t, "lt", "Hello everyone.\r\n"), "eom",
	    replies
end

-- whether any of the addresses was added as a recipient (miltertest
-- wants a value to compare)
function added_any(conn, addrs)
	for _, a in ipairs(addrs) do
		if mt.eom_check(conn, MT_RCPTADD, "<" .. a .. ">") then
			return true
		end
	end
	return false
end

function refused(r)
	return r == SMFIR_REPLYCODE or r == SMFIR_REJECT
end

-- every spooled mail (acknowledgement spool) to addr that contains needle
function mails_to(addr, needle)
	local out = {}
	local head = "rcpt " .. addr .. "\n"
	for _, sub in ipairs({ "new", "tmp", "failed" }) do
		local p = io.popen("ls " .. spool .. "/" .. sub .. " 2>/dev/null")
		for name in p:lines() do
			local s = slurp(spool .. "/" .. sub .. "/" .. name)
			if string.sub(s, 1, #head) == head and
			    (needle == nil or has(s, needle)) then
				table.insert(out, s)
			end
		end
		p:close()
	end
	return out
end

-- the token of the newest confirmation request to addr, or nil
function token_for(addr, needle)
	local tok = nil
	for _, s in ipairs(mails_to(addr, needle)) do
		tok = string.match(s, "\r\nSubject: confirm (%x+)\r\n") or tok
	end
	return tok
end

-- the members file, as a set of lower-case addresses
function members(name)
	local set = {}
	for line in io.lines(lists .. "/" .. name) do
		line = string.gsub(line, "#.*", "")
		line = string.gsub(line, "%s", "")
		if line ~= "" then
			set[string.lower(line)] = true
		end
	end
	return set
end

function log_has(needle)
	return has(slurp(tmp .. "/milter.log"), needle)
end
